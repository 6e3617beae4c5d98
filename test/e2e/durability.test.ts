/**
 * SIGKILL loses nothing acknowledged: a QoS1 publisher sends while the server is killed; after a
 * restart on the same data directory every message that got its PUBACK is in the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import mqtt from 'mqtt';
import { apiClient, spawnServer, tempDir, waitForExit } from '../support/platform.js';

test('every PUBACKed message survives a SIGKILL of the server', async () => {
  const dataDir = tempDir('continuum-kill-');
  const first = await spawnServer(dataDir);
  const api = await apiClient(`http://127.0.0.1:${first.ports.http}`);
  const device = await api.createDevice('kill-test-meter');

  const client = mqtt.connect(`mqtt://127.0.0.1:${first.ports.mqtt}`, { username: device.accessToken, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const base = Date.now() - 3_600_000;
  const acked: number[] = [];
  let sent = 0;
  let killed = false;
  const window = 64;
  await new Promise<void>((resolve) => {
    const sendNext = (): void => {
      if (killed) return;
      const seq = sent++;
      client.publish('v1/devices/me/telemetry', JSON.stringify({ ts: base + seq, values: { seq } }), { qos: 1 }, (err) => {
        if (!err) acked.push(seq);
        if (!killed && acked.length >= 3_000) {
          killed = true;
          first.child.kill('SIGKILL');
          resolve();
          return;
        }
        sendNext();
      });
    };
    for (let i = 0; i < window; i++) sendNext();
  });
  await waitForExit(first.child);
  client.end(true);
  assert.ok(acked.length >= 3_000, `acked ${acked.length}`);

  rmSync(`${dataDir}/ports.json`, { force: true });
  const second = await spawnServer(dataDir);
  try {
    const api2 = await apiClient(`http://127.0.0.1:${second.ports.http}`);
    const res = await api2.request<Record<string, { ts: number; value: number }[]>>(
      'GET',
      `/api/devices/${device.id}/telemetry?keys=seq&from=${base}&to=${base + sent}&limit=100000&order=asc`,
    );
    assert.equal(res.status, 200);
    const stored = new Set((res.body.seq ?? []).map((p) => p.value));
    const lost = acked.filter((seq) => !stored.has(seq));
    assert.deepEqual(lost, [], `${lost.length} acknowledged messages lost of ${acked.length}`);
  } finally {
    second.child.kill('SIGTERM');
    await waitForExit(second.child);
  }
});
