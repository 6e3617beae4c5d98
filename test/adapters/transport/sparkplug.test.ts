/**
 * Sparkplug B edge nodes against the whole platform: an MQTT.js client plays an edge node with two
 * devices. Births create the children, aliases resolve, deaths take them offline, platform RPC
 * goes out as DCMD/NCMD, and bad input gets a reason code instead of a crash.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type mqtt from 'mqtt';
import { DataType, decodePayload, encodePayload, type MetricInput, type Payload } from '../../../src/protocols/sparkplug/payload.js';
import { connectMqtt, eventually, startTestPlatform, type TestPlatform } from '../../support/platform.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform({ store: 'memory' });
});
after(async () => {
  await tp.stop();
});

type Series = Record<string, { ts: number; value: unknown }[]>;

/** An edge node: one MQTT connection, seq counted like a real one (Sparkplug 3.0 ch. 5 "Operational Behavior"), commands collected. */
class EdgeNode {
  private seq = 0;
  readonly commands: { topic: string; payload: Payload | string }[] = [];

  constructor(
    readonly client: mqtt.MqttClient,
    readonly group: string,
    readonly node: string,
  ) {
    client.on('message', (topic, payload) => {
      this.commands.push({ topic, payload: topic.includes('/STATE/') ? payload.toString() : decodePayload(payload) });
    });
  }

  static async connect(tp: TestPlatform, token: string, group: string, node: string): Promise<EdgeNode> {
    // Like real edge nodes, with NDEATH as the will (the platform acts on the connection loss itself).
    const will = { topic: `spBv1.0/${group}/NDEATH/${node}`, payload: encodePayload({ metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, value: 0 }] }), qos: 1 as const, retain: false };
    const client = await connectMqtt(tp.ports.mqtt, { username: token, protocolVersion: 5, clientId: `${group}-${node}`, will });
    const n = new EdgeNode(client, group, node);
    await client.subscribeAsync([`spBv1.0/${group}/NCMD/${node}/#`, `spBv1.0/${group}/DCMD/${node}/#`, 'spBv1.0/STATE/+'], { qos: 1 });
    return n;
  }

  /** Publishes and resolves with the PUBACK reason code (MQTT 5). */
  async send(type: string, metrics: MetricInput[], device?: string, opts: { seq?: number; raw?: Buffer } = {}): Promise<number> {
    const topic = `spBv1.0/${this.group}/${type}/${this.node}${device ? `/${device}` : ''}`;
    if (type === 'NBIRTH') this.seq = 0;
    const seq = type === 'NDEATH' ? undefined : (opts.seq ?? this.seq++ % 256);
    const body = opts.raw ?? encodePayload({ timestamp: Date.now(), metrics, ...(seq !== undefined ? { seq } : {}) });
    // MQTT.js rejects a publish whose PUBACK carries a failure; the reason code is on the error.
    return this.client.publishAsync(topic, body, { qos: 1 }).then(
      (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      (err: { code?: number }) => err.code ?? -1,
    );
  }
}

async function child(name: string): Promise<{ id: string; gatewayId: string }> {
  return eventually(async () => {
    const res = await tp.api.request<{ items: { id: string; name: string; gatewayId: string }[] }>('GET', `/api/devices?search=${encodeURIComponent(name)}`);
    return res.body.items.find((d) => d.name === name);
  }, 10_000, `child ${name}`);
}

async function online(id: string): Promise<boolean> {
  return (await tp.api.request<{ online: boolean }>('GET', `/api/devices/${id}/status`)).body.online;
}

async function series(id: string, keys: string): Promise<Series> {
  return (await tp.api.request<Series>('GET', `/api/devices/${id}/telemetry?keys=${encodeURIComponent(keys)}&from=0&to=${Date.now() + 60_000}`)).body;
}

function birth(metrics: [string, number, number, unknown][]): MetricInput[] {
  return metrics.map(([name, alias, datatype, value]) => ({ name, alias, datatype, value: value as MetricInput['value'] }));
}

test('an edge node with two devices: births create children, aliases resolve, DDEATH takes one offline, RPC arrives as DCMD', async () => {
  const gw = await tp.api.createDevice('sp-node-1', { gateway: true });
  const node = await EdgeNode.connect(tp, gw.accessToken, 'plant', 'node1');
  // The host's STATE answers the node's subscription (Sparkplug 3.0 ch. 5 "Operational Behavior").
  await eventually(async () => node.commands.find((c) => c.topic === 'spBv1.0/STATE/continuum') ?? undefined, 5000, 'STATE');

  assert.equal(await node.send('NBIRTH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 0 }, ...birth([['uptime', 1, DataType.Int64, 5], ['Node Control/Rebirth', 2, DataType.Boolean, false]])]), 0);
  assert.equal(await node.send('DBIRTH', birth([['temperature', 10, DataType.Float, 20.5], ['running', 11, DataType.Boolean, true], ['setpoint', 12, DataType.Int32, 40]]), 'pump-A'), 0);
  assert.equal(await node.send('DBIRTH', birth([['level', 10, DataType.Double, 1.25], ['alarm', 11, DataType.String, 'none']]), 'tank-B'), 0);
  const ts = Date.now() - 5000;
  // DATA names metrics by alias only; the same alias means different metrics on different devices.
  const code = await node.send('DDATA', [{ alias: 10, datatype: DataType.Float, value: 21.5, timestamp: ts }, { alias: 12, datatype: DataType.Int32, value: -3, timestamp: ts }], 'pump-A');
  assert.equal(code, 0);
  assert.equal(await node.send('DDATA', [{ alias: 10, datatype: DataType.Double, value: 2.5, timestamp: ts }], 'tank-B'), 0);
  assert.equal(await node.send('NDATA', [{ alias: 1, datatype: DataType.Int64, value: 99, timestamp: ts }]), 0);

  const pump = await child('pump-A');
  const tank = await child('tank-B');
  assert.equal(pump.gatewayId, gw.id);
  const pumpSeries = await series(pump.id, 'temperature,setpoint,running');
  assert.deepEqual(pumpSeries.temperature?.find((p) => p.ts === ts)?.value, 21.5);
  assert.deepEqual(pumpSeries.setpoint?.find((p) => p.ts === ts)?.value, -3);
  assert.equal(pumpSeries.running?.at(-1)?.value, true, 'birth values are telemetry too');
  assert.deepEqual((await series(tank.id, 'level')).level?.find((p) => p.ts === ts)?.value, 2.5);
  const nodeSeries = await series(gw.id, 'uptime,bdSeq');
  assert.deepEqual(nodeSeries.uptime?.find((p) => p.ts === ts)?.value, 99);
  assert.equal(nodeSeries.bdSeq, undefined, 'bdSeq is session machinery, not telemetry');
  assert.equal(await online(pump.id), true);
  assert.equal(await online(tank.id), true);

  // A platform command → DCMD with one metric named after the method, typed as the birth declared it;
  // the device's next report of that metric answers the RPC.
  const rpc = tp.api.request<{ response: unknown }>('POST', `/api/devices/${pump.id}/rpc`, { method: 'setpoint', params: { value: 55 }, timeoutMs: 5000 });
  const dcmd = await eventually(async () => node.commands.find((c) => c.topic === 'spBv1.0/plant/DCMD/node1/pump-A'), 5000, 'DCMD');
  const cmd = (dcmd.payload as Payload).metrics[0];
  assert.equal(cmd?.name, 'setpoint');
  assert.equal(cmd?.datatype, DataType.Int32);
  assert.equal(cmd?.value, 55);
  await node.send('DDATA', [{ alias: 12, datatype: DataType.Int32, value: 55 }], 'pump-A');
  const answered = await rpc;
  assert.equal(answered.status, 200);
  assert.deepEqual(answered.body.response, { setpoint: 55 });

  // A command for the node itself → NCMD.
  const ncmdRpc = await tp.api.request('POST', `/api/devices/${gw.id}/rpc`, { method: 'reboot', params: true, oneway: true });
  assert.equal(ncmdRpc.status, 200);
  const ncmd = await eventually(async () => node.commands.find((c) => c.topic === 'spBv1.0/plant/NCMD/node1'), 5000, 'NCMD');
  assert.deepEqual((ncmd.payload as Payload).metrics.map((m) => [m.name, m.datatype, m.value]), [['reboot', DataType.Boolean, true]]);

  assert.equal(await node.send('DDEATH', [], 'pump-A'), 0);
  await eventually(async () => ((await online(pump.id)) ? undefined : true), 5000, 'pump-A offline');
  assert.equal(await online(tank.id), true, 'the other device stays online');
  await node.client.endAsync();
});

test('NDEATH: a stale bdSeq is ignored, the current one takes every device offline; queued commands go out at rebirth; losing the connection is a death', async () => {
  const gw = await tp.api.createDevice('sp-node-2', { gateway: true });
  const node = await EdgeNode.connect(tp, gw.accessToken, 'plant', 'node2');
  await node.send('NBIRTH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 7 }]);
  await node.send('DBIRTH', birth([['flow', 1, DataType.Float, 3]]), 'meter-C');
  const meter = await child('meter-C');
  assert.equal(await online(meter.id), true);
  assert.equal(await node.send('NDEATH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 6 }]), 0);
  assert.equal(await online(meter.id), true, 'the death certificate of an earlier session');
  assert.equal(await node.send('NDEATH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 7 }]), 0);
  await eventually(async () => ((await online(meter.id)) ? undefined : true), 5000, 'meter-C offline after NDEATH');

  // A persistent command waits in the outbox while the device is dead, and goes out as DCMD at its
  // next DBIRTH; the device's report of the metric completes it.
  const queued = await tp.api.request<{ id: string; status: string }>('POST', `/api/devices/${meter.id}/commands`, { method: 'flow', params: { value: 9 }, persistent: true, timeoutMs: 10_000 });
  assert.equal(queued.status, 201, JSON.stringify(queued.body));
  assert.equal(queued.body.status, 'QUEUED');
  // Born again, then the connection drops without NDEATH: the will's effect.
  await node.send('NBIRTH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 8 }]);
  await node.send('DBIRTH', birth([['flow', 1, DataType.Float, 4]]), 'meter-C');
  await eventually(async () => ((await online(meter.id)) ? true : undefined), 5000, 'meter-C online again');
  const dcmd = await eventually(async () => node.commands.find((c) => c.topic === 'spBv1.0/plant/DCMD/node2/meter-C'), 5000, 'queued DCMD');
  assert.deepEqual((dcmd.payload as Payload).metrics.map((m) => [m.name, m.datatype, m.value]), [['flow', DataType.Float, 9]]);
  await node.send('DDATA', [{ alias: 1, datatype: DataType.Float, value: 9 }], 'meter-C');
  const done = await eventually(async () => {
    const c = await tp.api.request<{ status: string; response?: unknown }>('GET', `/api/commands/${queued.body.id}`);
    return c.body.status === 'SUCCESSFUL' ? c.body : undefined;
  }, 5000, 'command SUCCESSFUL');
  assert.deepEqual(done.response, { flow: 9 });
  node.client.stream.destroy();
  await eventually(async () => ((await online(meter.id)) ? undefined : true), 5000, 'meter-C offline after connection loss');
});

test('bad input: garbage payloads, unknown aliases, data before birth and non-gateway devices get reason codes, not crashes', async () => {
  const gw = await tp.api.createDevice('sp-node-3', { gateway: true });
  const node = await EdgeNode.connect(tp, gw.accessToken, 'plant', 'node3');
  // Data before NBIRTH: accepted, and the host asks for a rebirth (NCMD Node Control/Rebirth).
  assert.equal(await node.send('NDATA', [{ name: 'x', datatype: DataType.Int32, value: 1 }]), 0);
  const rebirth = await eventually(async () => node.commands.find((c) => c.topic === 'spBv1.0/plant/NCMD/node3'), 5000, 'rebirth request');
  assert.deepEqual((rebirth.payload as Payload).metrics.map((m) => [m.name, m.value]), [['Node Control/Rebirth', true]]);

  assert.equal(await node.send('NBIRTH', [], undefined, { raw: Buffer.from([0xff, 0xff, 0xff]) }), 0x99, 'malformed protobuf');
  await node.send('NBIRTH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 1 }]);
  assert.equal(await node.send('NCMD', []), 0x87, 'edge nodes do not publish commands');
  assert.equal(await node.send('NDATA', [], undefined, { raw: Buffer.alloc(0) }), 0, 'an empty payload is an empty message');
  await node.send('DBIRTH', birth([['a', 1, DataType.Int32, 1]]), 'dev-D');
  assert.equal(await node.send('DDATA', [{ alias: 42, datatype: DataType.Int32, value: 1 }], 'dev-D'), 0, 'unknown alias is skipped');
  assert.equal((await series((await child('dev-D')).id, 'a')).a?.length, 1, 'only the birth value was stored');

  const plain = await tp.api.createDevice('sp-plain-device');
  const other = await EdgeNode.connect(tp, plain.accessToken, 'plant', 'node4');
  assert.equal(await other.send('NBIRTH', [{ name: 'bdSeq', datatype: DataType.UInt64, value: 0 }]), 0x87, 'only gateway devices are edge nodes');
  await other.client.endAsync();
  await node.client.endAsync();
});
