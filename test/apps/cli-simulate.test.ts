/**
 * `continuum simulate` finds the platform's own device ports and checks the first message
 * landed — run while Mosquitto listens on this host's 1883, where the old default sent
 * everything ("sent 30, acked 30, errors 0" while nothing reached the platform).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient as RestClient } from '../../src/protocols/management-api/client.js';
import { platformPorts } from '../../src/apps/cli/simulate-platform.js';
import { startTestApi } from '../api/helpers.js';
import { ADMIN, spawnServer, tempDir, waitForExit, type ServerProcess } from '../support/platform.js';

let server: ServerProcess;
let baseUrl: string;

before(async () => {
  server = await spawnServer(tempDir());
  baseUrl = `http://127.0.0.1:${server.ports.http}`;
});

after(async () => {
  server?.child.kill('SIGTERM');
  if (server) await waitForExit(server.child);
});

function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['bin/continuum.mjs', 'simulate', '--url', baseUrl, '--scenario', 'src/simulator/load-pack.ts', '--devices', '3', '--no-install', '--rate', '2', ...args],
      { env: { PATH: process.env.PATH ?? '', CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password }, timeout: 90_000 },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => (socket.destroy(), done(true)));
    socket.on('error', () => done(false));
  });
}

test('without --mqtt-url the simulator uses the platform\'s MQTT port (from the API) and verifies the first message', async () => {
  assert.notEqual(server.ports.mqtt, 1883);
  assert.equal((await fetch(`${baseUrl}/api/endpoints`)).status, 401, 'the ports are for signed-in clients');
  const res = await simulate(['--duration', '3s', '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`to mqtt://127\\.0\\.0\\.1:${server.ports.mqtt}`));
  assert.match(res.stderr, /verified: the first message \(from meter-\d+\) reached the platform/);
  const summary = JSON.parse(res.stdout) as { acked: number; errors: number };
  assert.ok(summary.acked >= 3, `acked ${summary.acked}`);
  assert.equal(summary.errors, 0);
});

test('pointed at another broker (Mosquitto on 1883), it fails clearly instead of reporting success', async () => {
  // The machine's Mosquitto (.ci/debian-peers.txt; running on every dev and CI machine): never skipped.
  assert.ok(await listening(1883), 'Mosquitto must listen on 127.0.0.1:1883 for this test');
  const res = await simulate(['--mqtt-url', 'mqtt://127.0.0.1:1883', '--duration', '30s']);
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, /continuum: mqtt:\/\/127\.0\.0\.1:1883 acknowledged "meter-\d+"'s message but it never reached the platform at http:\/\/127\.0\.0\.1:\d+ .*another broker/);
  assert.equal(res.stdout, '');
});

test('a platform without /api/endpoints: the ports come from DATA_DIR/ports.json, else a clear error', async () => {
  const api = await startTestApi();
  try {
    const client = new RestClient(api.url, { authorization: `Bearer ${api.token}` });
    const dir = tempDir();
    await assert.rejects(platformPorts(client, dir), /cannot learn the platform's device ports: .*pass --mqtt-url/);
    writeFileSync(join(dir, 'ports.json'), JSON.stringify({ http: 1, mqtt: 2, coap: 3 }));
    assert.deepEqual(await platformPorts(client, dir), { ports: { http: 1, mqtt: 2, coap: 3 }, from: join(dir, 'ports.json') });
  } finally {
    await api.close();
  }
});
