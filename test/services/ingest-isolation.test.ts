/**
 * Issue 12, item 5: whatever one device sends, the other devices of the same group commit get
 * exactly what they were promised — acknowledged means stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestService } from '../../src/services/ingest.js';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { noopMetrics } from '../../src/ports/device-api.js';
import { DEFAULT_POINT_LIMITS, type Point } from '../../src/domain/telemetry.js';
import { isPlatformError } from '../../src/domain/errors.js';
import type { DeviceIdentity } from '../../src/domain/device.js';
import type { Store, TelemetryRow, TelemetryStore } from '../../src/ports.js';
import { tempDir } from '../support/tmp.js';

const NOW = 1_700_000_000_000;
const identity = (n: number): DeviceIdentity => ({ deviceId: `d${n}`, tenantId: 't', name: `dev${n}`, profileId: 'p', codec: 'json', isGateway: false });
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

function service(store: TelemetryStore): IngestService {
  return new IngestService({ store, bus: new MemoryBus(), clock: { now: () => NOW }, logger: silent, metrics: noopMetrics, limits: DEFAULT_POINT_LIMITS, maxBatchRows: 10_000 });
}

/** The promise of a call that may also throw synchronously (ingest validates before queueing). */
function settle(call: () => Promise<void>): Promise<void> {
  try {
    return call();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A JSON value nested `levels` deep, built the way JSON.parse builds a device's payload. */
function nested(levels: number): Point['value'] {
  return JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as Point['value'];
}

const stores: [string, () => Store][] = [
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore({ file: `${tempDir()}/c.db`, synchronous: 'NORMAL', checkpoints: false })],
];

for (const [kind, open] of stores) {
  test(`regression: a value nested 100,000 levels deep fails the group commit and drops other devices' acknowledged data (${kind})`, async () => {
    const store = open();
    const ingest = service(store);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, n) =>
        settle(() => ingest.ingest(identity(n), [{ key: 'v', ts: NOW, value: n === 7 ? nested(100_000) : { reading: n } }], 'mqtt')),
      ),
    );
    const rejected = results.flatMap((r, n) => (r.status === 'rejected' ? [n] : []));
    assert.deepEqual(rejected, [7], 'only the device that sent the deep value is refused');
    assert.ok(isPlatformError((results[7] as PromiseRejectedResult).reason, 'NESTING_TOO_DEEP'));
    for (let n = 0; n < 60; n++) {
      if (n === 7) continue;
      const stored = await store.queryRaw({ deviceId: `d${n}`, keys: ['v'], from: 0, to: NOW, limit: 10, order: 'asc' });
      assert.deepEqual(stored.v, [{ ts: NOW, value: { reading: n } }], `device ${n}: acknowledged and stored`);
    }
    await store.close();
  });
}

test('regression: one row the store cannot write fails every message of its batch', async () => {
  // A store that refuses any transaction holding device d3's row, as SQLite would a row it
  // cannot bind: the batch is retried in halves until d3's message is alone.
  const committed: string[] = [];
  const store = {
    async appendTelemetry(rows: readonly TelemetryRow[]) {
      if (rows.some((r) => r.deviceId === 'd3')) throw new Error('cannot bind value');
      for (const r of rows) committed.push(r.deviceId);
    },
  } as unknown as TelemetryStore;
  const ingest = service(store);
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, n) => ingest.ingest(identity(n), [{ key: 'v', ts: NOW, value: n }])));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  assert.deepEqual(committed, ['d0', 'd1', 'd2', 'd4', 'd5', 'd6', 'd7'], 'the others commit, in arrival order');
});

test('a value JSON.stringify cannot serialize fails its own message before it joins a batch', async () => {
  const store = createMemoryStore();
  const ingest = service(store);
  // A BigInt inside an object (a rule or codec bug): validation lets it through, JSON.stringify throws.
  const unserializable = { counter: 1n } as unknown as Point['value'];
  const good = ingest.ingest(identity(1), [{ key: 'v', ts: NOW, value: 1 }]);
  assert.throws(() => ingest.ingest(identity(2), [{ key: 'v', ts: NOW, value: unserializable }]), (e: unknown) => isPlatformError(e, 'MALFORMED_PAYLOAD'));
  await good;
  assert.equal((await store.latest('d1')).v?.value, 1);
  await store.close();
});
