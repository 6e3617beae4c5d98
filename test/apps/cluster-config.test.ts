/** Cluster mode in the config (apps/cluster-config.ts): flags, environment and file all turn it on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadConfigWithOrigins } from '../../src/apps/config.js';
import { tempDir } from '../support/tmp.js';

const PG = 'postgres://continuum@db:5432/continuum';
const NATS = 'nats://nats1:4222,nats://nats2:4222';

test('--cluster with --postgres and --nats: store postgres, bus nats, the default cluster name as the NATS prefix', () => {
  const { config, origins } = loadConfigWithOrigins({ env: {}, flags: { cluster: 'true', postgres: PG, nats: NATS, 'node-id': 'n1' } });
  assert.equal(config.cluster.enabled, true);
  assert.equal(config.store.kind, 'postgres');
  assert.equal(config.store.postgres.url, PG);
  assert.equal(config.bus.kind, 'nats');
  assert.equal(config.bus.nats.url, NATS);
  assert.equal(config.bus.nats.prefix, 'continuum');
  assert.equal(config.node.id, 'n1');
  assert.deepEqual(origins.get('bus.nats.prefix'), { source: 'flag', where: 'cluster mode' });
});

test('the environment: CONTINUUM_CLUSTER=1, CONTINUUM_CLUSTER_NAME, CONTINUUM_POSTGRES_URL, CONTINUUM_NATS_URL', () => {
  const config = loadConfig({ env: { CONTINUUM_CLUSTER: '1', CONTINUUM_CLUSTER_NAME: 'plant-b', CONTINUUM_POSTGRES_URL: PG, CONTINUUM_NATS_URL: NATS } });
  assert.equal(config.store.kind, 'postgres');
  assert.equal(config.bus.kind, 'nats');
  assert.equal(config.bus.nats.prefix, 'plant-b');
  assert.equal(config.bus.nats.url, NATS);
});

test('a config file: cluster.enabled and cluster.name beside the URLs', () => {
  const file = join(tempDir(), 'cluster.yaml');
  writeFileSync(file, `cluster:\n  enabled: true\n  name: plant-c\nstore:\n  postgres:\n    url: ${PG}\nbus:\n  nats:\n    url: ${NATS}\n`);
  const config = loadConfig({ file, env: {} });
  assert.equal(config.store.kind, 'postgres');
  assert.equal(config.bus.nats.prefix, 'plant-c');
});

test('refused: no URLs (one line each), another store or bus, a prefix that differs from the cluster name, a bad name', () => {
  assert.throws(() => loadConfig({ env: {}, flags: { cluster: 'true' } }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /needs the PostgreSQL URL: --postgres/);
    assert.match(err.message, /needs the NATS URL: --nats/);
    return true;
  });
  assert.throws(() => loadConfig({ env: {}, flags: { cluster: 'true', postgres: PG, nats: NATS, bus: 'memory' } }), /bus\.kind is "memory" \(drop --bus\)/);
  assert.throws(() => loadConfig({ env: { CONTINUUM_BUS_NATS_PREFIX: 'other' }, flags: { cluster: 'true', postgres: PG, nats: NATS } }), /bus\.nats\.prefix "other" differs from cluster\.name "continuum"/);
  assert.throws(() => loadConfig({ env: {}, flags: { cluster: 'true', postgres: PG, nats: NATS, 'cluster-name': 'a.b' } }), /cluster\.name/);
});

test('cluster mode off (the default): nothing changes', () => {
  const config = loadConfig({ env: {}, flags: { 'cluster-name': 'unused' } });
  assert.equal(config.store.kind, 'sqlite');
  assert.equal(config.bus.kind, 'memory');
  assert.equal(config.bus.nats.prefix, 'continuum');
});
