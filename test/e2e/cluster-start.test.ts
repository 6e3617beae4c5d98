/**
 * `continuum start --cluster` (issue 14, "Operations" and the Contract's first clause), started
 * the way users start it: two nodes in child processes on one test database and the machine's
 * NATS, under a cluster name of their own (the NATS prefix; its streams are deleted afterwards).
 * Each writes ports.json; a device created on node 1 publishes over MQTT to node 2 and its data
 * is read on node 1; /readyz names postgres and nats; GET /api/cluster answers as the node asked.
 * Without --postgres/--nats the start is refused with a line naming what is missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';
import { ADMIN, apiClient, eventually, spawnServer, tempDir, waitForExit, type ServerProcess } from '../support/platform.js';

const run = promisify(execFile);
const CLUSTER = `cc${randomBytes(4).toString('hex')}`;
let db: TestDatabase;
const servers: ServerProcess[] = [];

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  for (const s of servers) {
    s.child.kill('SIGTERM');
    await waitForExit(s.child);
  }
  await db.drop();
  await deleteStreams(`${CLUSTER}_`);
});

test('start --cluster without --postgres and --nats is refused with a line for each; start --help documents cluster mode', async () => {
  const env = { ...process.env, CONTINUUM_POSTGRES_URL: '', CONTINUUM_STORE_POSTGRES_URL: '', CONTINUUM_NATS_URL: '', CONTINUUM_BUS_NATS_URL: '' };
  const refused = await run(process.execPath, ['bin/continuum.mjs', 'start', '--cluster', '--data-dir', tempDir(), '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0'], { env }).then(
    () => assert.fail('the start was not refused'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cluster mode needs the PostgreSQL URL: --postgres/);
  assert.match(refused.stderr, /cluster mode needs the NATS URL: --nats/);
  const onlyPostgres = await run(process.execPath, ['bin/continuum.mjs', 'start', '--cluster', '--postgres', db.url, '--store', 'sqlite', '--data-dir', tempDir()], { env }).then(
    () => assert.fail('the start was not refused'),
    (err: { stderr: string }) => err,
  );
  assert.match(onlyPostgres.stderr, /store\.kind is "sqlite" \(drop --store\)/);
  const help = await run(process.execPath, ['bin/continuum.mjs', 'start', '--help']);
  assert.match(help.stdout, /--cluster\s/);
  assert.match(help.stdout, /--cluster-name NAME/);
});

test('two --cluster nodes on one database: ports.json each, a device made on node 1 publishes to node 2, read back on node 1', async () => {
  // Every node must hash tokens with the same key (docs/OPERATIONS.md, "Cluster").
  const key = `${randomBytes(32).toString('base64')}\n`;
  const dirs = [tempDir(), tempDir()];
  for (const dir of dirs) writeFileSync(join(dir, 'credential.key'), key, { mode: 0o600 });
  const args = (node: string): string[] => ['--cluster', '--node-id', node, '--postgres', db.url, '--nats', NATS_URL, '--cluster-name', CLUSTER];
  // One after the other: the first one migrates the database and creates the first admin.
  servers.push(await spawnServer(dirs[0] as string, args('node-1')));
  servers.push(await spawnServer(dirs[1] as string, args('node-2')));
  const [one, two] = servers as [ServerProcess, ServerProcess];
  const api1 = await apiClient(`http://127.0.0.1:${one.ports.http}`);
  const api2 = await apiClient(`http://127.0.0.1:${two.ports.http}`);

  const device = await api1.createDevice('cluster-meter');
  const ts = Date.now() - 60_000;
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(two.ports.mqtt), '-q', '1', '-u', device.accessToken, '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ ts, values: { temp: 21.5 } })]);
  // QoS 1 was acknowledged after the commit in PostgreSQL: node 1 reads it at once.
  const series = await api1.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${device.id}/telemetry?keys=temp&from=${ts}&to=${ts + 1}`);
  assert.deepEqual(series.body, { temp: [{ ts, value: 21.5 }] });

  for (const [server, nodeId] of [[one, 'node-1'], [two, 'node-2']] as const) {
    const ready = await fetch(`http://127.0.0.1:${server.ports.http}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { postgres: 'ok', nats: 'ok' } });
    const api = nodeId === 'node-1' ? api1 : api2;
    const status = await api.request<{ name: string; clustered: boolean; nodeId: string; nodes: { id: string; ready: boolean }[]; partitions: unknown[] }>('GET', '/api/cluster');
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.name, CLUSTER);
    assert.equal(status.body.clustered, true);
    assert.equal(status.body.nodeId, nodeId);
    assert.ok(status.body.nodes.some((n) => n.id === nodeId && n.ready));
    assert.equal(status.body.partitions.length, 64);
  }

  // Either node shows both (the shared membership), and every rule partition owned by one of them.
  await eventually(async () => {
    const s = await api2.request<{ nodes: { id: string }[]; partitions: { owner?: string; epoch?: number }[] }>('GET', '/api/cluster');
    const ids = s.body.nodes.map((n) => n.id).sort();
    const owned = s.body.partitions.every((p) => (p.owner === 'node-1' || p.owner === 'node-2') && typeof p.epoch === 'number');
    return ids.join() === 'node-1,node-2' && owned ? true : undefined;
  }, 30_000, 'both nodes in the membership, every partition owned');

  // The cluster name is the NATS prefix: the streams are this cluster's own.
  const streams = await eventually(async () => {
    const { connect } = await import('nats');
    const nc = await connect({ servers: NATS_URL });
    try {
      const names: string[] = [];
      for await (const name of (await nc.jetstreamManager()).streams.names()) if (name.startsWith(`${CLUSTER}_`)) names.push(name);
      return names.length > 0 ? names : undefined;
    } finally {
      await nc.close();
    }
  }, 10_000, 'the cluster streams');
  assert.ok(streams.includes(`${CLUSTER}_telemetry`), streams.join(', '));

  // `continuum cluster status` against node 2.
  const cli = await run(process.execPath, ['bin/continuum.mjs', 'cluster', 'status', '--url', `http://127.0.0.1:${two.ports.http}`], {
    env: { ...process.env, CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password },
  });
  assert.match(cli.stdout, new RegExp(`cluster ${CLUSTER} \\(cluster mode\\), answered by node-2`));
  assert.match(cli.stdout, /node-2 \*\s+yes/);
  assert.match(cli.stdout, /64 partitions/);
});
