/**
 * The compose files as Compose itself reads them: Debian's docker-compose validates them (`config`
 * needs no Docker daemon) and prints them resolved; the environment each service would get is then
 * fed to the platform's own config loader, which refuses unknown or malformed settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/apps/config.js';

interface Service {
  image?: string;
  build?: { context: string };
  environment?: Record<string, string | null>;
  ports?: Array<string | { target: number; published: number | string; protocol?: string }>;
  volumes?: Array<string | { source: string; target: string }>;
  profiles?: string[];
}

function composeConfig(file: string, env: Record<string, string> = {}): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  // A clean environment: the defaults written in the files, not this machine's CONTINUUM_* values.
  const res = spawnSync('docker-compose', ['-f', file, 'config'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  assert.equal(res.status, 0, `docker-compose config ${file}: ${res.stderr}`);
  return parseYaml(res.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
}

const targets = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`).replace(/:rw$/, ''));
const envOf = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? '']));

test('compose.yaml: valid, one node built from the repo, data in a named volume, a config the platform accepts', () => {
  const { services, volumes } = composeConfig('compose.yaml');
  const node = services.continuum;
  assert.ok(node?.build, 'built from the Dockerfile');
  assert.deepEqual(targets(node), ['continuum-data:/data']);
  assert.ok('continuum-data' in volumes);
  const config = loadConfig({ env: envOf(node) });
  assert.equal(config.store.kind, 'sqlite');
  assert.equal(config.http.port, 8080);
});

const CREDENTIAL_KEY = Buffer.alloc(32, 7).toString('base64');

test('deploy/compose.cluster.yaml: valid; three --cluster nodes on PostgreSQL and a three-server NATS cluster, one credential key', () => {
  const { services } = composeConfig('deploy/compose.cluster.yaml', { CONTINUUM_CREDENTIAL_KEY: CREDENTIAL_KEY });
  assert.match(services.postgres?.image ?? '', /^postgres:/);
  assert.equal(services.postgres?.profiles, undefined, 'PostgreSQL starts with the nodes');
  const nats = ['nats1', 'nats2', 'nats3'].map((n) => services[n]);
  for (const server of nats) assert.match(server?.image ?? '', /^nats:/);
  const nodes = Object.entries(services).filter(([, s]) => s.environment?.CONTINUUM_CLUSTER === '1');
  assert.equal(nodes.length, 3, 'three nodes');
  const ids = new Set<string>();
  const data = new Set<string>();
  for (const [name, s] of nodes) {
    const config = loadConfig({ env: envOf(s) });
    assert.equal(config.cluster.enabled, true, name);
    assert.equal(config.store.kind, 'postgres', name);
    assert.match(config.store.postgres.url, /@postgres:5432\/continuum$/, name);
    assert.equal(config.bus.kind, 'nats', name);
    assert.equal(config.bus.nats.url, 'nats://nats1:4222,nats://nats2:4222,nats://nats3:4222', name);
    assert.equal(config.bus.nats.prefix, 'continuum', name);
    assert.equal(config.bus.nats.replicas, 3, name);
    assert.equal(config.auth.credentialKey, CREDENTIAL_KEY, `${name}: the shared credential key`);
    ids.add(config.node.id ?? '');
    for (const v of targets(s)) data.add(v);
  }
  assert.equal(ids.size, nodes.length, 'one node id per node');
  assert.equal(data.size, nodes.length, 'one data volume per node');
});

test('deploy/compose.cluster.yaml: refused without the shared credential key', () => {
  const res = spawnSync('docker-compose', ['-f', 'deploy/compose.cluster.yaml', 'config'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.notEqual(res.status, 0);
  assert.match(res.stderr, /CONTINUUM_CREDENTIAL_KEY/);
});
