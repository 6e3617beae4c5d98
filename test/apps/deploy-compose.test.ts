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

function composeConfig(file: string): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  // A clean environment: the defaults written in the files, not this machine's CONTINUUM_* values.
  const res = spawnSync('docker-compose', ['-f', file, 'config'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
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

test('deploy/compose.cluster.yaml: valid, NATS with JetStream, nodes on the nats bus with their own ids and volumes', () => {
  const { services } = composeConfig('deploy/compose.cluster.yaml');
  assert.match(services.nats?.image ?? '', /^nats:/);
  const nodes = Object.entries(services).filter(([, s]) => s.environment?.CONTINUUM_BUS_KIND === 'nats');
  assert.ok(nodes.length >= 2, 'at least two nodes');
  const ids = new Set<string>();
  const data = new Set<string>();
  for (const [name, s] of nodes) {
    const config = loadConfig({ env: envOf(s) });
    assert.equal(config.bus.kind, 'nats', name);
    assert.equal(config.bus.nats.url, 'nats://nats:4222', name);
    assert.equal(config.bus.nats.partitions, 64, name);
    ids.add(config.node.id ?? '');
    for (const v of targets(s)) data.add(v);
  }
  assert.equal(ids.size, nodes.length, 'one node id per node');
  assert.equal(data.size, nodes.length, 'one data volume per node');
  // PostgreSQL waits behind a profile: the store that will use it does not exist yet.
  assert.deepEqual(services.postgres?.profiles, ['postgres']);
});
