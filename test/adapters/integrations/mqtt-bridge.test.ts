/**
 * MQTT bridge against real brokers: the machine's Mosquitto (127.0.0.1:1883) as the remote,
 * a unique topic prefix per test; a second Mosquitto on a free port, stopped then started,
 * for the buffer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { eventually, metricsText, startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { freePort, startMosquitto, type Mosquitto } from './mosquitto.js';

// The remotes run on this host: the outbound policy refuses loopback unless allowed.
const LOCAL_PEERS = { outbound: { allow: ['127.0.0.1'] } };

const REMOTE = 'mqtt://127.0.0.1:1883';

async function remoteClient(url: string): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

async function collect(client: mqtt.MqttClient, filter: string): Promise<{ topic: string; body: Record<string, unknown> }[]> {
  const got: { topic: string; body: Record<string, unknown> }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
  await client.subscribeAsync(filter, { qos: 1 });
  return got;
}

async function postTelemetry(p: TestPlatform, token: string, body: unknown): Promise<void> {
  const res = await fetch(`${p.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

describe('MQTT bridge (mqtt-bridge integration)', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ config: LOCAL_PEERS });
  });
  after(async () => {
    await p.stop();
  });

  it('out: republishes committed telemetry to the remote under the topic template, as JSON with its keys and values', async () => {
    const prefix = `ct-${randomUUID().slice(0, 8)}`;
    const device = await p.api.createDevice(`pump 1/${prefix}`);
    const remote = await remoteClient(REMOTE);
    try {
      const got = await collect(remote, `${prefix}/#`);
      const created = await p.api.request<{ id: string; status: { state: string } }>('POST', '/api/integrations', {
        type: 'mqtt-bridge',
        name: `out ${prefix}`,
        config: { url: REMOTE, direction: 'out', topic: `${prefix}/\${deviceName}/telemetry` },
        filter: { events: ['telemetry'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await eventually(async () => ((await p.api.request<{ status: { state: string } }>('GET', `/api/integrations/${created.body.id}`)).body.status.state === 'connected' ? true : undefined), 10_000, 'connected');
      await postTelemetry(p, device.accessToken, { ts: 1_700_000_000_000, values: { temperature: 21.5, running: true } });
      await postTelemetry(p, device.accessToken, { pressure: 3 });
      const messages = await eventually(async () => (got.length >= 2 ? got : undefined), 10_000, 'two messages on the remote');
      // The device name's "/" and spaces cannot add topic levels.
      assert.equal(messages[0]?.topic, `${prefix}/pump_1_${prefix}/telemetry`);
      assert.deepEqual(messages[0]?.body.values, { temperature: 21.5, running: true });
      assert.equal(messages[0]?.body.ts, 1_700_000_000_000);
      assert.equal(messages[0]?.body.deviceId, device.id);
      assert.deepEqual(messages[1]?.body.values, { pressure: 3 });
      const status = await p.api.request<{ status: { sent: number; backlog: number } }>('GET', `/api/integrations/${created.body.id}`);
      assert.equal(status.body.status.sent, 2);
      assert.equal(status.body.status.backlog, 0);
      const metrics = await metricsText(p.baseUrl);
      assert.match(metrics, new RegExp(`continuum_integration_sent_total\\{integration="${created.body.id}"\\} 2`));
      assert.match(metrics, new RegExp(`continuum_integration_backlog\\{integration="${created.body.id}",type="mqtt-bridge"\\} 0`));
      assert.equal((await p.api.request('DELETE', `/api/integrations/${created.body.id}`)).status, 204);
    } finally {
      await remote.endAsync();
    }
  });

  it('in: a remote publish on the inbound template becomes the named device’s stored telemetry', async () => {
    const prefix = `ci-${randomUUID().slice(0, 8)}`;
    const device = await p.api.createDevice(`meter-${prefix}`);
    const created = await p.api.request<{ id: string }>('POST', '/api/integrations', {
      type: 'mqtt-bridge',
      name: `in ${prefix}`,
      config: { url: REMOTE, direction: 'in', inTopic: `${prefix}/{deviceName}/up` },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(async () => ((await p.api.request<{ status: { state: string } }>('GET', `/api/integrations/${created.body.id}`)).body.status.state === 'connected' ? true : undefined), 10_000, 'connected');
    const remote = await remoteClient(REMOTE);
    try {
      await remote.publishAsync(`${prefix}/meter-${prefix}/up`, JSON.stringify({ ts: 1_700_000_000_000, values: { kwh: 12.5 } }), { qos: 1 });
      await remote.publishAsync(`${prefix}/nobody/up`, JSON.stringify({ kwh: 1 }), { qos: 1 });
      const series = await eventually(async () => {
        const res = await p.api.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${device.id}/telemetry?keys=kwh&from=0&to=${Date.now() + 86_400_000}`);
        return res.body.kwh?.length ? res.body.kwh : undefined;
      }, 10_000, 'inbound telemetry stored');
      assert.deepEqual(series[0], { ts: 1_700_000_000_000, value: 12.5 });
      const status = await eventually(async () => {
        const s = (await p.api.request<{ status: { received: number; rejected: number } }>('GET', `/api/integrations/${created.body.id}`)).body.status;
        return s.rejected === 1 ? s : undefined;
      }, 10_000, 'unknown device rejected');
      assert.equal(status.received, 1);
    } finally {
      await remote.endAsync();
      await p.api.request('DELETE', `/api/integrations/${created.body.id}`);
    }
  });

  it('remote away: committed telemetry waits in the durable buffer, survives a restart, and is all delivered once the remote is up', async () => {
    const own = await startTestPlatform({ config: LOCAL_PEERS });
    let restarted: TestPlatform | undefined;
    let broker: Mosquitto | undefined;
    const port = await freePort();
    const prefix = `cb-${randomUUID().slice(0, 8)}`;
    try {
      const device = await own.api.createDevice(`d-${prefix}`);
      const created = await own.api.request<{ id: string }>('POST', '/api/integrations', {
        type: 'mqtt-bridge',
        name: 'buffered',
        config: { url: `mqtt://127.0.0.1:${port}`, topic: `${prefix}/{deviceName}/{event}`, reconnectMs: 1500 },
        filter: { events: ['telemetry'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      for (let i = 0; i < 20; i++) await postTelemetry(own, device.accessToken, { ts: 1_700_000_000_000 + i, values: { n: i } });
      const waiting = await eventually(async () => {
        const s = (await own.api.request<{ status: { backlog: number; state: string; lagMs: number } }>('GET', `/api/integrations/${created.body.id}`)).body.status;
        return s.backlog === 20 ? s : undefined;
      }, 10_000, 'backlog of 20');
      assert.notEqual(waiting.state, 'connected');
      assert.match(await metricsText(own.baseUrl), new RegExp(`continuum_integration_backlog\\{integration="${created.body.id}",type="mqtt-bridge"\\} 20`));
      // A restart in between: the buffer (the cursor) is on disk.
      await own.stop();
      restarted = await startTestPlatform({ dataDir: own.dataDir, config: LOCAL_PEERS });
      broker = await startMosquitto(port);
      const remote = await remoteClient(`mqtt://127.0.0.1:${port}`);
      try {
        const got = await collect(remote, `${prefix}/#`);
        await eventually(async () => (got.length >= 20 ? true : undefined), 15_000, 'all 20 delivered');
        const values = got.map((m) => (m.body.values as { n: number }).n);
        assert.deepEqual([...new Set(values)].sort((a, b) => a - b), [...Array(20).keys()]);
        assert.ok(got.every((m) => m.topic === `${prefix}/d-${prefix}/telemetry`));
        const after = (await restarted.api.request<{ status: { backlog: number; state: string } }>('GET', `/api/integrations/${created.body.id}`)).body.status;
        assert.equal(after.backlog, 0);
        assert.equal(after.state, 'connected');
      } finally {
        await remote.endAsync();
      }
    } finally {
      await restarted?.stop();
      if (!restarted) await own.stop().catch(() => undefined);
      await broker?.stop();
    }
  });
});
