import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createBus } from '../../src/apps/bus.js';
import { ConfigError, loadConfig } from '../../src/apps/config.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

test('the composition root picks the bus by config.bus.kind', async () => {
  const bus = createBus(loadConfig().bus, silent);
  assert.ok(bus instanceof MemoryBus);
  await bus.close();
  assert.throws(() => createBus({ kind: 'nats' }, silent), /bus.kind 'nats' is not available yet/);
  assert.throws(() => createBus({ kind: 'kafka' }, silent), /unknown bus.kind 'kafka'/);
});

test('config accepts memory and nats and refuses any other bus kind', () => {
  assert.equal(loadConfig({ overrides: { bus: { kind: 'nats' } } }).bus.kind, 'nats');
  assert.throws(() => loadConfig({ overrides: { bus: { kind: 'kafka' } } }), ConfigError);
});
