/**
 * The ingest → rules handoff through the outbox: what was committed reaches the bus, also when the
 * process stopped between the commit and the publish (here: the store closed with the record
 * written and never relayed, then reopened and recovered, as a restart after SIGKILL would).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { DeviceIdentity } from '../../src/domain/device.js';
import { DEFAULT_POINT_LIMITS } from '../../src/domain/telemetry.js';
import type { Bus, BusEvents, Store } from '../../src/ports.js';
import { noopMetrics } from '../../src/ports/device-api.js';
import { IngestService } from '../../src/services/ingest.js';
import { OutboxRelay, type OutboxEvent } from '../../src/services/outbox-relay.js';

const NOW = 1_700_000_000_000;
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const identity = (n: number): DeviceIdentity => ({ deviceId: `d${n}`, tenantId: 't', name: `dev${n}`, profileId: 'p', codec: 'json', isGateway: false });
const event = (n: number, value: BusEvents['telemetry']['points'][number]['value'] = n): OutboxEvent => ({
  event: 'telemetry',
  subject: `telemetry.t.d${n}`,
  message: { tenantId: 't', deviceId: `d${n}`, points: [{ key: 'v', ts: NOW + n, value }] },
});

const dir = mkdtempSync(join(tmpdir(), 'continuum-outbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const sqlite = (file: string): Store => createSqliteStore({ file, synchronous: 'NORMAL', checkpoints: false });

/** A rule-engine-like consumer: a work-queue group partitioned by device. */
function consume(bus: Bus): BusEvents['telemetry'][] {
  const got: BusEvents['telemetry'][] = [];
  bus.subscribe('telemetry', 'telemetry.>', (m) => void got.push(m), { group: 'rules-telemetry' });
  return got;
}

describe('outbox relay', () => {
  it('events committed but never published (the process stopped) reach a subscriber after the restart', async () => {
    const file = join(dir, `${++files}`, 'continuum.db');
    let store = sqlite(file);
    const relay0 = new OutboxRelay({ store, bus: new MemoryBus(), logger: silent });
    // two commits with their events, then the "crash": the store closes, nothing was relayed
    await store.appendTelemetry([{ deviceId: 'd1', key: 'v', ts: NOW + 1, value: 1 }], relay0.encode([event(1)]));
    await store.appendTelemetry([{ deviceId: 'd2', key: 'v', ts: NOW + 2, value: { nested: [1, 'x'] } }, { deviceId: 'd3', key: 'v', ts: NOW + 3, value: 3 }], relay0.encode([event(2, { nested: [1, 'x'] }), event(3)]));
    await store.close();

    store = sqlite(file);
    try {
      const bus = new MemoryBus();
      const got = consume(bus);
      const relay = new OutboxRelay({ store, bus, logger: silent });
      assert.equal(await relay.recover(), 2);
      await bus.idle();
      // telemetry is read back from the committed rows the records refer to
      assert.deepEqual(got, [event(1).message, event(2, { nested: [1, 'x'] }).message, event(3).message]);
      assert.deepEqual(await store.takeOutbox(10), [], 'acknowledged once published');
    } finally {
      await store.close();
    }
    // and acknowledged for good: the next start publishes nothing again
    store = sqlite(file);
    try {
      assert.equal(await new OutboxRelay({ store, bus: new MemoryBus(), logger: silent }).recover(), 0);
    } finally {
      await store.close();
    }
  });

  it('ingest writes the events with the batch and the relay publishes them after the commit (at least once across a crash)', async () => {
    const file = join(dir, `${++files}`, 'continuum.db');
    let store = sqlite(file);
    // A bus that takes the messages but never confirms: the process "dies" before any acknowledgement.
    const published: string[] = [];
    const stuck: Bus = { publish: (_e, s) => (published.push(s), new Promise<void>(() => undefined)), subscribe: () => () => undefined, close: async () => undefined };
    const ingest = new IngestService({ store, bus: stuck, outbox: new OutboxRelay({ store, bus: stuck, logger: silent }), clock: { now: () => NOW }, logger: silent, metrics: noopMetrics, limits: DEFAULT_POINT_LIMITS, maxBatchRows: 10_000 });
    await Promise.all([1, 2].map((n) => ingest.ingest(identity(n), [{ key: 'v', ts: NOW + n, value: n }])));
    await ingest.drain();
    assert.deepEqual(published.sort(), ['telemetry.t.d1', 'telemetry.t.d2']);
    await store.close();

    store = sqlite(file);
    try {
      const bus = new MemoryBus();
      const got = consume(bus);
      assert.equal(await new OutboxRelay({ store, bus, logger: silent }).recover(), 1, 'one record per batch');
      await bus.idle();
      assert.deepEqual(got.map((m) => m.deviceId).sort(), ['d1', 'd2']);
      assert.deepEqual(got.map((m) => m.points), [[{ key: 'v', ts: NOW + 1, value: 1 }], [{ key: 'v', ts: NOW + 2, value: 2 }]]);
    } finally {
      await store.close();
    }
  });

  it('a telemetry reference (one per device and batch: its timestamp range) reads back the stored points in that range (several per message, JSON values, a deleted device)', async () => {
    const store = createMemoryStore();
    const bus = new MemoryBus();
    const got = consume(bus);
    const relay = new OutboxRelay({ store, bus, logger: silent });
    const points = [{ key: 'a', ts: NOW + 2, value: 2 }, { key: 'doc', ts: NOW + 1, value: { x: [1] } }, { key: 'a', ts: NOW + 1, value: 1 }];
    const message = { event: 'telemetry', subject: 'telemetry.t.dm', message: { tenantId: 't', deviceId: 'dm', points } } as const;
    const later = { event: 'telemetry', subject: 'telemetry.t.dm', message: { tenantId: 't', deviceId: 'dm', points: [{ key: 'a', ts: NOW + 3, value: 3 }] } } as const;
    await store.appendTelemetry([...points, ...later.message.points].map((p) => ({ deviceId: 'dm', ...p })), relay.encode([message, event(9), later]));
    assert.match((await store.takeOutbox(1))[0]?.payload ?? '', /^\[\["t","dm",1700000000001,1700000000003\],\["t","d9",1700000000009,1700000000009\]\]$/);
    assert.equal(await relay.recover(), 1);
    await bus.idle();
    // d9 has no stored rows (as if deleted): nothing to announce
    assert.deepEqual(got, [{ tenantId: 't', deviceId: 'dm', points: [{ key: 'a', ts: NOW + 1, value: 1 }, { key: 'doc', ts: NOW + 1, value: { x: [1] } }, { key: 'a', ts: NOW + 2, value: 2 }, { key: 'a', ts: NOW + 3, value: 3 }] }]);
  });

  it('on the live path each record is acknowledged once the bus has its events', async () => {
    const store = createMemoryStore();
    const bus = new MemoryBus();
    const got = consume(bus);
    const relay = new OutboxRelay({ store, bus, logger: silent });
    const ingest = new IngestService({ store, bus, outbox: relay, clock: { now: () => NOW }, logger: silent, metrics: noopMetrics, limits: DEFAULT_POINT_LIMITS, maxBatchRows: 10_000 });
    await Promise.all([1, 2, 3].map((n) => ingest.ingest(identity(n), [{ key: 'v', ts: NOW + n, value: n }])));
    await ingest.drain();
    await relay.drain();
    assert.deepEqual(got.map((m) => m.deviceId), ['d1', 'd2', 'd3']);
    assert.deepEqual(await store.takeOutbox(10), []);
    await store.close();
  });

  it('a publish that fails leaves the record, published again by the retry pass', async () => {
    const store = createMemoryStore();
    const inner = new MemoryBus();
    const got = consume(inner);
    let down = true;
    const flaky: Bus = {
      publish: (e, s, m) => (down ? Promise.reject(new Error('bus unreachable')) : inner.publish(e, s, m)),
      subscribe: (e, p, h, o) => inner.subscribe(e, p, h, o),
      close: () => inner.close(),
    };
    const relay = new OutboxRelay({ store, bus: flaky, logger: silent, retryMs: 5 });
    const id = await store.appendTelemetry([{ deviceId: 'd1', key: 'v', ts: NOW + 1, value: 1 }], relay.encode([event(1)]));
    relay.relay(id, [event(1)]);
    await new Promise((r) => setTimeout(r, 2));
    assert.equal((await store.takeOutbox(10)).length, 1, 'kept while the bus is down');
    down = false;
    const end = Date.now() + 3000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await relay.drain();
    assert.deepEqual(got, [event(1).message]);
    assert.deepEqual(await store.takeOutbox(10), []);
  });

  it('a record this build cannot read (another schema version, a malformed reference) is left in the outbox; the others go out', async () => {
    const store = createMemoryStore();
    const bus = new MemoryBus();
    const got = consume(bus);
    const relay = new OutboxRelay({ store, bus, logger: silent });
    const status: OutboxEvent = { event: 'status', subject: 'status.t.d1', message: { tenantId: 't', deviceId: 'd1', online: true } };
    const statuses: BusEvents['status'][] = [];
    bus.subscribe('status', 'status.>', (m) => void statuses.push(m));
    await store.appendTelemetry([{ deviceId: 'd1', key: 'v', ts: NOW + 1, value: 1 }], relay.encode([event(1), status]).replace('"v":1', '"v":99'));
    await store.appendTelemetry([{ deviceId: 'd2', key: 'v', ts: NOW + 2, value: 2 }], relay.encode([event(2), status]));
    await store.appendTelemetry([{ deviceId: 'd3', key: 'v', ts: NOW + 3, value: 3 }], '[["t", 3]]'); // malformed reference
    assert.equal(await relay.recover(), 1);
    assert.deepEqual(got, [event(2).message]);
    assert.deepEqual(statuses, [status.message], 'envelopes other than telemetry round-trip with their version');
    assert.equal((await store.takeOutbox(10)).length, 2);
  });
});
