/**
 * The embedded broker's state survives a platform restart on the same data directory (issue 13,
 * item 5): persistent sessions with their subscriptions and queued QoS 1 messages, and retained
 * messages — after a graceful stop, and after kill -9 for everything that was acknowledged.
 * Real peers: MQTT.js clients authenticated as devices, in the device's own namespace.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { apiClient, spawnServer, startTestPlatform, tempDir, waitForExit, type TestPlatform } from '../support/platform.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dataDir(): string {
  const d = tempDir('continuum-broker-state-e2e-');
  dirs.push(d);
  return d;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Connects, collecting messages from before the CONNACK (a resumed session's queue follows it at once). */
async function connect(port: number, options: IClientOptions): Promise<{ client: MqttClient; sessionPresent: boolean; next(ms?: number): Promise<{ topic: string; payload: string; retain: boolean }> }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const inbox: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => inbox.push({ topic, payload: payload.toString(), retain: packet.retain }));
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent));
    client.once('error', reject);
  });
  return {
    client,
    sessionPresent,
    async next(ms = 5000) {
      const deadline = Date.now() + ms;
      while (inbox.length === 0) {
        if (Date.now() > deadline) throw new Error('no message in time');
        await sleep(20);
      }
      return inbox.shift() as { topic: string; payload: string; retain: boolean };
    },
  };
}

interface Device {
  readonly id: string;
  readonly name: string;
  readonly accessToken: string;
}

/** A platform, its device and a restart on the same data dir (graceful stop). */
async function withRestart(
  first: (tp: TestPlatform, device: Device) => Promise<void>,
  second: (tp: TestPlatform, device: Device) => Promise<void>,
  pauseMs = 0,
): Promise<void> {
  const dir = dataDir();
  const a = await startTestPlatform({ dataDir: dir });
  let device: Device;
  try {
    device = await a.api.createDevice('state-meter');
    await first(a, device);
  } finally {
    await a.stop();
  }
  await sleep(pauseMs);
  const b = await startTestPlatform({ dataDir: dir });
  try {
    await second(b, device);
  } finally {
    await b.stop();
  }
}

describe('MQTT broker state across a platform restart', () => {
  it('(a) MQTT 5 Clean Start 0 + Session Expiry: a QoS 1 message queued while the device was offline arrives after the restart', async () => {
    const sub = (token: string): IClientOptions => ({ clientId: 'state-sub', username: token, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
    await withRestart(
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, sub(device.accessToken));
        await s.client.subscribeAsync(`devices/${device.name}/cmd`, { qos: 1 });
        await s.client.endAsync();
        const pub = await connect(tp.ports.mqtt, { clientId: 'state-pub', username: device.accessToken, protocolVersion: 5 });
        await pub.client.publishAsync(`devices/${device.name}/cmd`, 'queued-while-offline', { qos: 1 });
        await pub.client.endAsync();
      },
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, sub(device.accessToken));
        assert.equal(s.sessionPresent, true);
        assert.equal((await s.next()).payload, 'queued-while-offline');
        await s.client.endAsync();
      },
    );
  });

  it('(b) a retained message survives the restart', async () => {
    await withRestart(
      async (tp, device) => {
        const pub = await connect(tp.ports.mqtt, { clientId: 'retain-pub', username: device.accessToken, protocolVersion: 5 });
        await pub.client.publishAsync(`devices/${device.name}/state`, 'on', { qos: 1, retain: true });
        await pub.client.endAsync();
      },
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, { clientId: 'retain-sub', username: device.accessToken, protocolVersion: 4 });
        await s.client.subscribeAsync(`devices/${device.name}/#`, { qos: 1 });
        const m = await s.next();
        assert.deepEqual(m, { topic: `devices/${device.name}/state`, payload: 'on', retain: true });
        await s.client.endAsync();
      },
    );
  });

  it('(c) MQTT 3.1.1 Clean Session 0: the subscription survives the restart', async () => {
    const sub = (token: string): IClientOptions => ({ clientId: 'sub-311', username: token, protocolVersion: 4, clean: false });
    await withRestart(
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, sub(device.accessToken));
        await s.client.subscribeAsync(`devices/${device.name}/events/+`, { qos: 1 });
        await s.client.endAsync();
      },
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, sub(device.accessToken));
        assert.equal(s.sessionPresent, true);
        const pub = await connect(tp.ports.mqtt, { clientId: 'pub-311', username: device.accessToken, protocolVersion: 4 });
        await pub.client.publishAsync(`devices/${device.name}/events/door`, 'open', { qos: 1 });
        assert.equal((await s.next()).payload, 'open'); // routed without subscribing again
        await Promise.all([s.client.endAsync(), pub.client.endAsync()]);
      },
    );
  });

  it('(d) a session whose expiry passed while the platform was down is gone after the restart', async () => {
    const sub = (token: string): IClientOptions => ({ clientId: 'short', username: token, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 1 } });
    await withRestart(
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, sub(device.accessToken));
        await s.client.subscribeAsync(`devices/${device.name}/cmd`, { qos: 1 });
        await s.client.endAsync();
      },
      async (tp, device) => {
        const s = await connect(tp.ports.mqtt, sub(device.accessToken));
        assert.equal(s.sessionPresent, false);
        await s.client.endAsync();
      },
      1500,
    );
  });

  it('device API subscriptions of a persistent session survive too: server-side RPC reaches the device without a new SUBSCRIBE', async () => {
    const opts = (token: string): IClientOptions => ({ clientId: 'rpc-dev', username: token, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 600 } });
    let deviceId = '';
    await withRestart(
      async (tp, device) => {
        deviceId = device.id;
        const d = await connect(tp.ports.mqtt, opts(device.accessToken));
        await d.client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
        await d.client.endAsync();
      },
      async (tp, device) => {
        const d = await connect(tp.ports.mqtt, opts(device.accessToken));
        assert.equal(d.sessionPresent, true);
        d.client.on('message', (topic, payload) => {
          const id = topic.split('/').pop();
          const { params } = JSON.parse(payload.toString()) as { params: { x: number } };
          void d.client.publishAsync(`v1/devices/me/rpc/response/${id}`, JSON.stringify({ doubled: params.x * 2 }), { qos: 1 });
        });
        const res = await tp.api.request<{ response: unknown }>('POST', `/api/devices/${deviceId}/rpc`, { method: 'double', params: { x: 21 }, timeoutMs: 5000 });
        await d.client.endAsync();
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.response, { doubled: 42 });
      },
    );
  });

  it('kill -9: every message acknowledged to the publisher reaches the offline persistent session after the restart, and the retained one is kept', async () => {
    const dir = dataDir();
    const first = await spawnServer(dir);
    const api = await apiClient(`http://127.0.0.1:${first.ports.http}`);
    const device = await api.createDevice('kill-meter');
    const sub: IClientOptions = { clientId: 'kill-sub', username: device.accessToken, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } };
    const s = await connect(first.ports.mqtt, sub);
    await s.client.subscribeAsync(`devices/${device.name}/cmd`, { qos: 1 });
    await s.client.endAsync();
    const pub = await connect(first.ports.mqtt, { clientId: 'kill-pub', username: device.accessToken, protocolVersion: 5 });
    pub.client.on('error', () => undefined);
    await pub.client.publishAsync(`devices/${device.name}/state`, 'retained-before-kill', { qos: 1, retain: true });
    // Publish in a window of 20 and kill the server right after the 200th acknowledgement.
    const acked: number[] = [];
    let sent = 0;
    await new Promise<void>((resolve) => {
      const sendNext = (): void => {
        const n = sent++;
        pub.client.publish(`devices/${device.name}/cmd`, String(n), { qos: 1 }, (err) => {
          if (err || acked.length >= 200) return;
          acked.push(n);
          if (acked.length === 200) {
            first.child.kill('SIGKILL');
            resolve();
          } else sendNext();
        });
      };
      for (let i = 0; i < 20; i++) sendNext();
    });
    await waitForExit(first.child);
    pub.client.end(true);

    rmSync(`${dir}/ports.json`, { force: true });
    const second = await spawnServer(dir);
    try {
      const again = await connect(second.ports.mqtt, sub);
      assert.equal(again.sessionPresent, true);
      const got = new Set<number>();
      for (;;) {
        const m = await again.next(1000).catch(() => undefined);
        if (!m) break;
        got.add(Number(m.payload));
      }
      const lost = acked.filter((n) => !got.has(n));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
      const r = await connect(second.ports.mqtt, { clientId: 'kill-retain', username: device.accessToken, protocolVersion: 5 });
      await r.client.subscribeAsync(`devices/${device.name}/state`, { qos: 1 });
      assert.equal((await r.next()).payload, 'retained-before-kill');
      await Promise.all([again.client.endAsync(), r.client.endAsync()]);
    } finally {
      second.child.kill('SIGTERM');
      await waitForExit(second.child);
    }
  });
});
