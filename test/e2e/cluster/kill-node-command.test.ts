/**
 * Issue 14, Must show: "a command issued before the kill is delivered after it". A device is
 * connected to node C; a persistent two-way command for it is issued through node A's REST API
 * as C is SIGKILLed; the device reconnects to node B and the command reaches it there and
 * succeeds. Needs sessions across nodes (shared presence, helper B's lane): kept apart from
 * kill-node.test.ts so the acked == stored test stays green while that lands.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mqtt from 'mqtt';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { connectMqtt, eventually } from '../../support/platform.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ nodes: 3 });
});
after(async () => {
  await cluster?.stop();
});

/** A device that answers every RPC request with `{ ok: method }` and remembers the requests. */
async function rpcDevice(port: number, token: string, received: string[]): Promise<mqtt.MqttClient> {
  const client = await connectMqtt(port, { username: token, protocolVersion: 4, clean: true });
  client.on('message', (topic, payload) => {
    if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
    const { method } = JSON.parse(payload.toString()) as { method: string };
    received.push(method);
    void client.publishAsync(`v1/devices/me/rpc/response/${topic.split('/').pop()}`, JSON.stringify({ ok: method }), { qos: 1 }).catch(() => undefined);
  });
  client.on('error', () => undefined);
  await client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  return client;
}

test('a persistent command issued on A as C (holding the device) is killed is delivered once the device reconnects to B', async () => {
  const api = await cluster.api(0);
  const device = await api.createDevice('cmd-on-c');
  const received: string[] = [];
  const onC = await rpcDevice(cluster.nodes[2]!.mqttPort, device.accessToken, received);

  const [sent] = await Promise.all([
    api.request<{ id: string; status: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'setValve', params: { open: true }, persistent: true, timeoutMs: 60_000, expiresInMs: 120_000 }),
    cluster.kill(2),
  ]);
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  onC.end(true);

  const onB = await rpcDevice(cluster.nodes[1]!.mqttPort, device.accessToken, received);
  try {
    const done = await eventually(async () => {
      const res = await api.request<{ status: string; response?: unknown }>('GET', `/api/commands/${sent.body.id}`);
      return res.body.status === 'SUCCESSFUL' ? res.body : undefined;
    }, 60_000, 'the command to succeed after the device moved to B');
    assert.deepEqual(done.response, { ok: 'setValve' });
    assert.ok(received.includes('setValve'));
  } finally {
    await onB.endAsync();
  }
});

test('a persistent command issued on A after C died, before its device reconnects, waits and is delivered on B', async () => {
  const c = await cluster.restart(2);
  const api = await cluster.api(0);
  const device = await api.createDevice('cmd-after-kill');
  const received: string[] = [];
  const onC = await rpcDevice(c.mqttPort, device.accessToken, received);
  await cluster.kill(2);
  onC.end(true);
  // The platform's view is stale now: the device's session was on a node that is gone.
  const sent = await api.request<{ id: string; status: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'reboot', params: {}, persistent: true, timeoutMs: 60_000, expiresInMs: 120_000 });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const onB = await rpcDevice(cluster.nodes[1]!.mqttPort, device.accessToken, received);
  try {
    const done = await eventually(async () => {
      const res = await api.request<{ status: string; response?: unknown }>('GET', `/api/commands/${sent.body.id}`);
      return res.body.status === 'SUCCESSFUL' ? res.body : undefined;
    }, 60_000, 'the command to succeed on B');
    assert.deepEqual(done.response, { ok: 'reboot' });
    assert.deepEqual(received, ['reboot']);
  } finally {
    await onB.endAsync();
  }
});
