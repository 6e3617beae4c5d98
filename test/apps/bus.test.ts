import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { NatsBus } from '../../src/adapters/bus/nats/index.js';
import { createBus } from '../../src/apps/bus.js';
import { ConfigError, loadConfig } from '../../src/apps/config.js';
import { isPlatformError } from '../../src/domain/errors.js';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

test('the composition root picks the bus by config.bus.kind', async () => {
  const bus = await createBus(loadConfig().bus, silent);
  assert.ok(bus instanceof MemoryBus);
  await bus.close();
  await assert.rejects(createBus({ kind: 'kafka' }, silent), /unknown bus.kind 'kafka'/);
});

test("bus.kind 'nats' connects to bus.nats.url with its prefix; an unreachable server refuses the start (UNAVAILABLE)", async () => {
  const prefix = `ca${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ env: { CONTINUUM_BUS_NATS_URL: NATS_URL, CONTINUUM_BUS_NATS_PREFIX: prefix, CONTINUUM_BUS_NATS_PARTITIONS: '4' }, flags: { bus: 'nats' } });
  assert.deepEqual(config.bus, { kind: 'nats', nats: { url: NATS_URL, prefix, partitions: 4, replicas: 1, ackWaitMs: 30_000, maxAgeSeconds: 86_400 } });
  const bus = await createBus(config.bus, silent);
  try {
    assert.ok(bus instanceof NatsBus);
    const got: string[] = [];
    bus.subscribe('status', 'status.>', (m) => void got.push(m.deviceId));
    await bus.publish('status', 'status.t.d1', { tenantId: 't', deviceId: 'd1', online: true });
    while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, ['d1']);
  } finally {
    await bus.close();
    assert.deepEqual(await deleteStreams(prefix), [`${prefix}_status`]);
  }
  const down = loadConfig({ flags: { bus: 'nats', nats: 'nats://127.0.0.1:1' } }).bus;
  await assert.rejects(createBus(down, silent), (err) => isPlatformError(err, 'UNAVAILABLE'));
});

test('config accepts memory and nats and refuses any other bus kind or a prefix that is not one NATS token', () => {
  assert.equal(loadConfig({ overrides: { bus: { kind: 'nats' } } }).bus.kind, 'nats');
  assert.throws(() => loadConfig({ overrides: { bus: { kind: 'kafka' } } }), ConfigError);
  assert.throws(() => loadConfig({ env: { CONTINUUM_BUS_NATS_PREFIX: 'a.b' } }), ConfigError);
  assert.throws(() => loadConfig({ env: { CONTINUUM_BUS_NATS_PARTITIONS: '0' } }), ConfigError);
});
