/**
 * The edge as a Sparkplug B host against real peers: an MQTT.js client plays an industrial edge
 * node on a local broker (the platform's own broker, standalone, on port 0), the edge forwards its
 * metrics to a real platform as child devices, and a platform command comes back as DCMD.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type mqtt from 'mqtt';
import { pino } from 'pino';
import { DataType, decodePayload, encodePayload, type MetricInput, type Payload } from '../../src/protocols/sparkplug/payload.js';
import { createMqttTransport, type MqttTransport } from '../../src/adapters/transport/mqtt/index.js';
import { loadConfig } from '../../src/apps/config.js';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig } from '../../src/edge/config.js';
import type { SparkplugStatus } from '../../src/edge/connectors/sparkplug/index.js';
import { connectMqtt, eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const GROUP = `test-${randomUUID().slice(0, 8)}`;
let tp: TestPlatform;
let broker: MqttTransport;
let brokerPort: number;
let edge: Edge;
let node: mqtt.MqttClient;
const received: { topic: string; payload: Payload | string }[] = [];

async function send(type: string, seq: number, metrics: MetricInput[], device?: string): Promise<void> {
  await node.publishAsync(`spBv1.0/${GROUP}/${type}/line-1${device ? `/${device}` : ''}`, encodePayload({ timestamp: Date.now(), seq, metrics }), { qos: 1 });
}

async function childId(name: string): Promise<string> {
  return eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${name}`);
    return list.body.items.find((d) => d.name === name)?.id;
  }, 10_000, `child ${name}`);
}

async function latest(id: string, key: string): Promise<unknown> {
  return eventually(async () => (await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${id}/telemetry/latest`)).body[key]?.value, 10_000, `${key} of ${id}`);
}

before(async () => {
  tp = await startTestPlatform({ store: 'memory' });
  // The plant's broker: ours, standalone profile, on a free port, so nothing clashes with other tests.
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', mqtt: { port: 0, tlsPort: 0, profile: 'conformance' }, log: { level: 'silent' } } });
  broker = createMqttTransport({ config, logger: pino({ level: 'silent' }) });
  const [address] = await broker.start();
  brokerPort = Number(new URL(address?.url ?? '').port);
  const gateway = await tp.api.createDevice('sp-edge-gw', { gateway: true });
  const edgeConfig = loadEdgeConfig('examples/edge/sparkplug.yaml', {
    CONTINUUM_EDGE_URL: `mqtt://127.0.0.1:${tp.ports.mqtt}`,
    GATEWAY_TOKEN: gateway.accessToken,
    SPARKPLUG_BROKER_URL: `mqtt://127.0.0.1:${brokerPort}`,
    SPARKPLUG_GROUP: GROUP,
  });
  node = await connectMqtt(brokerPort, { clientId: 'line-1', protocolVersion: 5 });
  node.on('message', (topic, payload) => received.push({ topic, payload: topic.includes('/STATE/') ? payload.toString() : decodePayload(payload) }));
  await node.subscribeAsync([`spBv1.0/${GROUP}/NCMD/line-1`, `spBv1.0/${GROUP}/DCMD/line-1/+`, 'spBv1.0/STATE/+'], { qos: 1 });
  edge = await startEdge({ config: edgeConfig, dataDir: tempDir(), logger: quiet });
});

after(async () => {
  await node?.endAsync();
  await edge?.stop();
  await broker?.stop();
  await tp?.stop();
});

test('a Sparkplug edge node on the local broker: metrics reach the platform as children, aliases resolved', async () => {
  // The host announces itself (Sparkplug 3.0 ch. 5 "Operational Behavior") once it is subscribed: then the node births.
  await eventually(async () => received.find((r) => r.topic === 'spBv1.0/STATE/continuum-edge' && String(r.payload).includes('"online":true')), 10_000, 'STATE online');
  await send('NBIRTH', 0, [{ name: 'bdSeq', datatype: DataType.UInt64, value: 0 }, { name: 'cycle', alias: 1, datatype: DataType.UInt32, value: 10 }]);
  await send('DBIRTH', 1, [{ name: 'speed', alias: 1, datatype: DataType.Int16, value: 100 }, { name: 'temp', alias: 2, datatype: DataType.Float, value: 30 }], 'press');
  await send('DBIRTH', 2, [{ name: 'count', alias: 1, datatype: DataType.UInt64, value: 5 }], 'robot');
  await send('DDATA', 3, [{ alias: 2, datatype: DataType.Float, value: 31.5 }], 'press');
  await send('DDATA', 4, [{ alias: 1, datatype: DataType.UInt64, value: 6 }], 'robot');
  await send('NDATA', 5, [{ alias: 1, datatype: DataType.UInt32, value: 11 }]);

  const press = await childId('press-1');
  assert.equal(await eventually(async () => ((await latest(press, 'temp')) === 31.5 ? 31.5 : undefined), 10_000, 'temp 31.5'), 31.5);
  assert.equal(await latest(press, 'speed'), 100);
  // Unlisted device: discovered under its Sparkplug id; the node under its mapping's name.
  const robot = await childId('robot');
  assert.equal(await eventually(async () => ((await latest(robot, 'count')) === 6 ? 6 : undefined), 10_000, 'count 6'), 6);
  const controller = await childId('line-1-controller');
  assert.equal(await eventually(async () => ((await latest(controller, 'cycle')) === 11 ? 11 : undefined), 10_000, 'cycle 11'), 11);
});

test('a platform command reaches the device as DCMD, typed as its birth declared', async () => {
  const press = await childId('press-1');
  const res = await tp.api.request<{ response: unknown }>('POST', `/api/devices/${press}/rpc`, { method: 'speed', params: { value: 120 }, timeoutMs: 5000 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const dcmd = await eventually(async () => received.find((r) => r.topic === `spBv1.0/${GROUP}/DCMD/line-1/press`), 5000, 'DCMD');
  assert.deepEqual((dcmd.payload as Payload).metrics.map((m) => [m.name, m.datatype, m.value]), [['speed', DataType.Int16, 120]]);
});

test('data the host cannot place gets a rebirth request; DDEATH and NDEATH are tracked', async () => {
  await send('DDATA', 6, [{ alias: 9, datatype: DataType.Float, value: 1 }], 'press');
  const rebirth = await eventually(async () => received.find((r) => r.topic === `spBv1.0/${GROUP}/NCMD/line-1`), 5000, 'rebirth NCMD');
  assert.deepEqual((rebirth.payload as Payload).metrics.map((m) => [m.name, m.value]), [['Node Control/Rebirth', true]]);
  const status = (): SparkplugStatus => edge.status().connectors[0] as SparkplugStatus;
  assert.equal(status().devicesOnline, 2);
  await send('DDEATH', 7, [], 'robot');
  await eventually(async () => (status().devicesOnline === 1 ? true : undefined), 5000, 'robot dead');
  await node.publishAsync(`spBv1.0/${GROUP}/NDEATH/line-1`, encodePayload({ metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, value: 0 }] }), { qos: 1 });
  await eventually(async () => (status().nodes === 0 && status().devicesOnline === 0 ? true : undefined), 5000, 'node dead');
  const press = await childId('press-1');
  // Death certificates are the devices' connectivity: the children go offline on the platform
  // (device_disconnected), so an RPC fails there at once instead of travelling to the edge.
  const child = await eventually(async () => {
    const d = await tp.api.request<{ online: boolean; offlineReason: string | null }>('GET', `/api/devices/${press}`);
    return d.body.online ? undefined : d.body;
  }, 5000, 'press-1 offline on the platform');
  assert.equal(child.offlineReason, 'device_disconnected');
  const offline = await tp.api.request<{ error?: string }>('POST', `/api/devices/${press}/rpc`, { method: 'speed', params: 1, timeoutMs: 2000 });
  assert.deepEqual({ status: offline.status, error: offline.body.error }, { status: 409, error: 'DEVICE_OFFLINE' });
});
