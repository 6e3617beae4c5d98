import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestService } from '../../src/services/ingest.js';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { noopMetrics } from '../../src/ports/device-api.js';
import { DEFAULT_POINT_LIMITS } from '../../src/domain/telemetry.js';
import { isPlatformError } from '../../src/domain/errors.js';
import type { DeviceIdentity } from '../../src/domain/device.js';
import type { TelemetryRow, TelemetryStore } from '../../src/ports.js';

const NOW = 1_700_000_000_000;
const identity = (n: number): DeviceIdentity => ({ deviceId: `d${n}`, tenantId: 't', name: `dev${n}`, profileId: 'p', codec: 'json', isGateway: false });
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

/** Records each append as one batch; commits after the test releases it. */
function recordingStore(): { store: TelemetryStore; batches: TelemetryRow[][]; release: () => void; fail: (e: Error) => void } {
  const batches: TelemetryRow[][] = [];
  let gate: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const store = {
    appendTelemetry(rows: readonly TelemetryRow[]) {
      batches.push([...rows]);
      return new Promise<void>((resolve, reject) => (gate = { resolve, reject }));
    },
  } as unknown as TelemetryStore;
  return { store, batches, release: () => gate?.resolve(), fail: (e) => gate?.reject(e) };
}

function service(store: TelemetryStore, bus = new MemoryBus(), maxBatchRows = 10_000): IngestService {
  return new IngestService({ store, bus, clock: { now: () => NOW }, logger: silent, metrics: noopMetrics, limits: DEFAULT_POINT_LIMITS, maxBatchRows });
}

test('messages that arrive in one event-loop turn are committed in one batch, acked after it', async () => {
  const rec = recordingStore();
  const ingest = service(rec.store);
  let acked = 0;
  const all = [1, 2, 3].map((n) => ingest.ingest(identity(n), [{ key: 'v', ts: NOW, value: n }]).then(() => acked++));
  await new Promise((r) => setImmediate(r));
  assert.equal(rec.batches.length, 1);
  assert.equal(rec.batches[0]?.length, 3);
  assert.equal(acked, 0, 'nothing is acknowledged before the commit');
  rec.release();
  await Promise.all(all);
  assert.equal(acked, 3);
});

test('while a commit runs, new messages queue for the next batch', async () => {
  const rec = recordingStore();
  const ingest = service(rec.store);
  const first = ingest.ingest(identity(1), [{ key: 'v', ts: NOW, value: 1 }]);
  await new Promise((r) => setImmediate(r));
  const second = ingest.ingest(identity(2), [{ key: 'v', ts: NOW, value: 2 }]);
  await new Promise((r) => setImmediate(r));
  assert.equal(rec.batches.length, 1);
  rec.release();
  await first;
  await new Promise((r) => setImmediate(r));
  assert.equal(rec.batches.length, 2);
  rec.release();
  await second;
});

test('a store that keeps failing rejects every message of the batch with UNAVAILABLE', async () => {
  let attempts = 0;
  const store = { appendTelemetry: () => (attempts++, Promise.reject(new Error('disk full'))) } as unknown as TelemetryStore;
  const ingest = service(store);
  const a = ingest.ingest(identity(1), [{ key: 'v', ts: NOW, value: 1 }]);
  const b = ingest.ingest(identity(2), [{ key: 'v', ts: NOW, value: 2 }]);
  await assert.rejects(a, (e: unknown) => isPlatformError(e, 'UNAVAILABLE'));
  await assert.rejects(b, (e: unknown) => isPlatformError(e, 'UNAVAILABLE'));
  assert.equal(attempts, 3, 'the batch, then each message alone');
});

test('invalid points reject the whole message before anything is queued', async () => {
  const rec = recordingStore();
  const ingest = service(rec.store);
  const cases: [unknown, string][] = [
    [{ key: 'x'.repeat(256), ts: NOW, value: 1 }, 'KEY_TOO_LONG'],
    [{ key: 'a', ts: NOW, value: Number.NaN }, 'NON_FINITE_NUMBER'],
    [{ key: 'a', ts: NOW + 2 * 86_400_000, value: 1 }, 'TIMESTAMP_IN_FUTURE'],
  ];
  for (const [point, code] of cases) {
    await assert.rejects(async () => ingest.ingest(identity(1), [{ key: 'ok', ts: NOW, value: 1 }, point as never]), (e: unknown) => isPlatformError(e, code as never));
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(rec.batches.length, 0);
});

test('committed telemetry is announced on the bus per message', async () => {
  const rec = recordingStore();
  const bus = new MemoryBus();
  const seen: string[] = [];
  bus.subscribe('telemetry', 'telemetry.>', (m, subject) => void seen.push(`${subject}:${m.points.length}`));
  const ingest = service(rec.store, bus);
  const done = ingest.ingest(identity(7), [{ key: 'a', ts: NOW, value: 1 }, { key: 'b', ts: NOW, value: 2 }]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, []);
  rec.release();
  await done;
  assert.deepEqual(seen, ['telemetry.t.d7:2']);
});

test('a full batch is committed without waiting for the loop to turn', async () => {
  const rec = recordingStore();
  const ingest = service(rec.store, new MemoryBus(), 2);
  void ingest.ingest(identity(1), [{ key: 'a', ts: NOW, value: 1 }, { key: 'b', ts: NOW, value: 2 }]);
  assert.equal(rec.batches.length, 1);
  rec.release();
  await ingest.drain();
});

test('regression: activity is reported with the transport that carried the data, not always mqtt', async () => {
  const rec = recordingStore();
  const seen: string[] = [];
  const ingest = new IngestService({
    store: rec.store,
    bus: new MemoryBus(),
    clock: { now: () => NOW },
    logger: silent,
    metrics: noopMetrics,
    limits: DEFAULT_POINT_LIMITS,
    maxBatchRows: 10_000,
    onCommitted: (identity, transport) => seen.push(`${identity.deviceId}:${transport}`),
  });
  const viaHttp = ingest.ingest(identity(1), [{ key: 'a', ts: NOW, value: 1 }], 'http');
  const derived = ingest.ingest(identity(2), [{ key: 'b', ts: NOW, value: 2 }]);
  await new Promise((r) => setImmediate(r));
  rec.release();
  await Promise.all([viaHttp, derived]);
  assert.deepEqual(seen, ['d1:http'], 'derived telemetry is not device activity');
});
