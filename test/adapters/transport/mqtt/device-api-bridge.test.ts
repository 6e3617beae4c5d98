/**
 * The ThingsBoard-compatible device API over MQTT, against a fake DeviceApi: authentication and
 * CONNACK codes, PUBACK after commit and in order, reason codes, attributes, RPC both ways, gateway
 * API, provisioning, sessions, and tenant / namespace isolation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { platformPolicy } from '../../../../src/adapters/transport/mqtt/auth.js';
import { deviceApiInterceptor } from '../../../../src/adapters/transport/mqtt/device-api-bridge.js';
import { DEVICES, FakeDeviceApi } from './fake-device-api.js';
import { CountingMetrics, client, collect, sleep, startBroker, subackCodes, type TestBroker } from './helpers.js';

let tb: TestBroker;
let api: FakeDeviceApi;
before(async () => {
  api = new FakeDeviceApi();
  const metrics = new CountingMetrics();
  tb = await startBroker({
    metrics,
    policy: platformPolicy({ deviceApi: api }),
    interceptors: [deviceApiInterceptor({ deviceApi: api, gatewayApi: api, metrics })],
  });
});
after(async () => {
  await tb.close();
});

/** CONNACK code of a refused connection: 3.1.1 return code or MQTT 5 reason code. */
function refusal(options: mqtt.IClientOptions): Promise<number | undefined> {
  return new Promise((resolve) => {
    const c = mqtt.connect(tb.url, { reconnectPeriod: 0, ...options });
    c.once('connect', () => {
      c.end();
      resolve(0);
    });
    c.once('error', (err: Error & { code?: number }) => {
      c.end(true);
      resolve(err.code);
    });
  });
}

test('authentication: token, basic credentials, and the CONNACK codes of failures', async () => {
  assert.equal(await refusal({ username: 'good' }), 0);
  assert.equal(await refusal({ clientId: 'cid', username: 'user', password: 'pass' }), 0);
  assert.equal(await refusal({ username: 'revoked', protocolVersion: 4 }), 5, 'unknown token: not authorized');
  assert.equal(await refusal({ username: 'revoked', protocolVersion: 5 }), 0x87);
  assert.equal(await refusal({ clientId: 'cid', username: 'user', password: 'wrong', protocolVersion: 4 }), 4, 'bad user name or password');
  assert.equal(await refusal({ clientId: 'cid', username: 'user', password: 'wrong', protocolVersion: 5 }), 0x86);
  assert.equal(await refusal({ protocolVersion: 4 }), 4, 'no credentials at all');
  // Counted by catalogue code, the same labels HTTP and CoAP use.
  assert.ok(tb.metrics.get('reject:mqtt:UNAUTHORIZED') + tb.metrics.get('reject:mqtt:BAD_CREDENTIALS') >= 5);
  assert.equal(tb.metrics.get('reject:mqtt:auth'), 0);
});

test('a device session is opened per connection (persistent), touched on PINGREQ, closed on disconnect', async () => {
  const c = await client(tb.url, { username: 'good', keepalive: 1 });
  const s = api.session(DEVICES.good.deviceId);
  assert.equal(s.persistent, true);
  await sleep(1300); // MQTT.js pings within the keep alive
  assert.ok(s.touches >= 1);
  await c.endAsync();
  await sleep(50);
  assert.equal(s.closed, true);
});

test('telemetry PUBACKs come only after the commit resolves, and in arrival order [MQTT-4.6.0-2]', async () => {
  let release!: () => void;
  api.holds.set('{"slow":1}', new Promise<void>((r) => (release = r)));
  const c = await client(tb.url, { username: 'good' });
  const acks: number[] = [];
  c.on('packetreceive', (p) => {
    if (p.cmd === 'puback') acks.push(p.messageId ?? -1);
  });
  const slow = c.publishAsync('v1/devices/me/telemetry', '{"slow":1}', { qos: 1 });
  const fast = c.publishAsync('v1/devices/me/telemetry', '{"fast":1}', { qos: 1 });
  await sleep(300);
  assert.equal(acks.length, 0, 'nothing acknowledged before the first commit resolves');
  assert.equal(api.called('publishTelemetry').length >= 2, true, 'both handed to the platform');
  release();
  await Promise.all([slow, fast]);
  assert.equal(acks.length, 2);
  assert.ok((acks[0] as number) < (acks[1] as number), `order ${acks.join(',')}`);
  await c.endAsync();
});

test('a rejected payload: MQTT 5 PUBACK carries the reason code, 3.1.1 is acknowledged; both counted', async () => {
  const before = tb.metrics.get('reject:mqtt:MALFORMED_PAYLOAD');
  const v5 = await client(tb.url, { username: 'good', protocolVersion: 5 });
  const code = await new Promise<number | undefined>((resolve) => {
    v5.publish('v1/devices/me/telemetry', 'bad', { qos: 1 }, (err) => resolve((err as { code?: number } | undefined)?.code));
  });
  assert.equal(code, 0x99);
  await v5.endAsync();
  const v4 = await client(tb.url, { username: 'good', protocolVersion: 4 });
  await v4.publishAsync('v1/devices/me/telemetry', 'bad', { qos: 1 });
  await v4.endAsync();
  assert.equal(tb.metrics.get('reject:mqtt:MALFORMED_PAYLOAD'), before + 2);
});

test('MQTT 5 content type is passed to the platform with the telemetry', async () => {
  const c = await client(tb.url, { username: 'good', protocolVersion: 5 });
  await c.publishAsync('v1/devices/me/telemetry', '[]', { qos: 1, properties: { contentType: 'application/senml+json' } });
  assert.deepEqual(api.called('publishTelemetry').at(-1), ['dev-1', '[]', 'mqtt', 'application/senml+json']);
  await c.endAsync();
});

test('attribute request / response, and shared-attribute updates pushed to subscribers', async () => {
  const c = await client(tb.url, { username: 'good' });
  const inbox = collect(c);
  await c.publishAsync('v1/devices/me/attributes', '{"fw":"1.0"}', { qos: 1 });
  assert.deepEqual(api.called('publishAttributes').at(-1), ['dev-1', '{"fw":"1.0"}']);
  await c.subscribeAsync('v1/devices/me/attributes/response/+', { qos: 1 });
  await c.publishAsync('v1/devices/me/attributes/request/7', '{"clientKeys":"a,b","sharedKeys":"c"}', { qos: 1 });
  const res = await inbox.next();
  assert.equal(res.topic, 'v1/devices/me/attributes/response/7');
  assert.deepEqual(JSON.parse(res.payload), { client: { a: 1, b: 'two' }, shared: { c: true } });
  assert.deepEqual(api.called('getAttributes').at(-1), ['dev-1', { clientKeys: ['a', 'b'], sharedKeys: ['c'] }]);

  const granted = await c.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
  assert.equal(granted[0]?.qos, 1);
  const handlers = api.session('dev-1').handlers;
  handlers.onSharedAttributes?.({ values: { target: 21 } });
  handlers.onSharedAttributes?.({ values: {}, deleted: ['old'] });
  const pushed = [await inbox.next(), await inbox.next()];
  assert.deepEqual(pushed.map((m) => [m.topic, JSON.parse(m.payload)]), [
    ['v1/devices/me/attributes', { target: 21 }],
    ['v1/devices/me/attributes', { deleted: ['old'] }],
  ]);
  await c.unsubscribeAsync('v1/devices/me/attributes');
  assert.equal(api.session('dev-1').handlers.onSharedAttributes, undefined, 'platform told the device stopped listening');
  await c.endAsync();
});

test('server-side RPC: request delivered on rpc/request/$id, the answer reaches rpcResponse', async () => {
  const c = await client(tb.url, { username: 'good', protocolVersion: 5 });
  const inbox = collect(c);
  await c.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  api.session('dev-1').handlers.onRpcRequest?.({ id: 42, method: 'setFan', params: { speed: 3 } });
  const req = await inbox.next();
  assert.equal(req.topic, 'v1/devices/me/rpc/request/42');
  assert.deepEqual(JSON.parse(req.payload), { method: 'setFan', params: { speed: 3 } });
  await c.publishAsync('v1/devices/me/rpc/response/42', '{"ok":true}', { qos: 1 });
  assert.deepEqual(api.called('rpcResponse').at(-1), ['dev-1', 42, '{"ok":true}']);
  await c.endAsync();
});

test('client-side RPC: rpc/request/$id is answered on rpc/response/$id, errors included', async () => {
  const c = await client(tb.url, { username: 'good' });
  const inbox = collect(c);
  await c.subscribeAsync('v1/devices/me/rpc/response/+', { qos: 1 });
  await c.publishAsync('v1/devices/me/rpc/request/3', '{"method":"getTime","params":{}}', { qos: 1 });
  const res = await inbox.next();
  assert.deepEqual([res.topic, JSON.parse(res.payload)], ['v1/devices/me/rpc/response/3', { time: 1234 }]);
  await c.publishAsync('v1/devices/me/rpc/request/4', '{"method":"fail"}', { qos: 1 });
  const err = await inbox.next();
  assert.equal(err.topic, 'v1/devices/me/rpc/response/4');
  assert.ok((JSON.parse(err.payload) as { error?: string }).error);
  await c.endAsync();
});

test('gateway API: connect, telemetry, attributes, attribute request, child RPC both ways', async () => {
  const gw = await client(tb.url, { username: 'gw' });
  const inbox = collect(gw);
  await gw.publishAsync('v1/gateway/connect', '{"device":"A","type":"plc"}', { qos: 1 });
  assert.deepEqual(api.called('gatewayConnect').at(-1), ['gw-1', 'A', 'plc']);
  const telemetry = '{"A":[{"ts":1,"values":{"t":1}}]}';
  await gw.publishAsync('v1/gateway/telemetry', telemetry, { qos: 1 });
  assert.deepEqual(api.called('gatewayTelemetry').at(-1), ['gw-1', telemetry]);
  await gw.publishAsync('v1/gateway/attributes', '{"A":{"x":1}}', { qos: 1 });
  assert.equal(api.called('gatewayAttributes').length, 1);
  await gw.subscribeAsync(['v1/gateway/rpc', 'v1/gateway/attributes', 'v1/gateway/attributes/response'], { qos: 1 });
  await gw.publishAsync('v1/gateway/attributes/request', '{"id":1,"device":"A","client":true,"key":"x"}', { qos: 1 });
  const attr = await inbox.next();
  assert.deepEqual([attr.topic, JSON.parse(attr.payload)], ['v1/gateway/attributes/response', { id: 1, device: 'A', value: 42 }]);
  const handlers = api.gatewaySessions.at(-1)?.handlers;
  handlers?.onChildRpcRequest?.('A', { id: 9, method: 'writeCoil', params: { coil: 1 } });
  const rpc = await inbox.next();
  assert.deepEqual([rpc.topic, JSON.parse(rpc.payload)], ['v1/gateway/rpc', { device: 'A', data: { id: 9, method: 'writeCoil', params: { coil: 1 } } }]);
  handlers?.onChildSharedAttributes?.('A', { values: { sp: 5 } });
  const pushed = await inbox.next();
  assert.deepEqual([pushed.topic, JSON.parse(pushed.payload)], ['v1/gateway/attributes', { device: 'A', data: { sp: 5 } }]);
  await gw.publishAsync('v1/gateway/rpc', '{"device":"A","id":9,"data":{"ok":1}}', { qos: 1 });
  assert.equal(api.called('gatewayRpcResponse').length, 1);
  await gw.publishAsync('v1/gateway/disconnect', '{"device":"A"}', { qos: 1 });
  assert.deepEqual(api.called('gatewayDisconnect').at(-1), ['gw-1', 'A']);
  await gw.endAsync();
  // A plain device may not use the gateway topics.
  const dev = await client(tb.url, { username: 'good', protocolVersion: 5 });
  const code = await new Promise<number | undefined>((resolve) => {
    dev.publish('v1/gateway/telemetry', telemetry, { qos: 1 }, (err) => resolve((err as { code?: number } | undefined)?.code));
  });
  assert.equal(code, 0x87);
  await dev.endAsync();
});

test('provisioning: user name "provision" may only ask for credentials', async () => {
  const c = await client(tb.url, { username: 'provision' });
  const inbox = collect(c);
  await c.subscribeAsync('/provision/response', { qos: 1 });
  await c.publishAsync('/provision/request', '{"deviceName":"new","provisionDeviceKey":"k","provisionDeviceSecret":"secret"}', { qos: 1 });
  const res = await inbox.next();
  assert.deepEqual(JSON.parse(res.payload), { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'new-token' });
  await c.publishAsync('/provision/request', '{"provisionDeviceKey":"k","provisionDeviceSecret":"wrong"}', { qos: 1 });
  assert.equal((JSON.parse((await inbox.next()).payload) as { status: string }).status, 'FAILURE');
  assert.deepEqual(await subackCodes(c, 'devices/x/#'), [0x80]);
  await c.endAsync();
});

test('mqtt provisioning validates the request like http and coap', async () => {
  // Regression: the MQTT bridge passed any JSON object on to provisioning, so a request HTTP and
  // CoAP refuse with 400 (unknown credentialsType, a non-string token, no secret) created a device.
  const c = await client(tb.url, { username: 'provision', protocolVersion: 5 });
  const inbox = collect(c);
  await c.subscribeAsync('/provision/response', { qos: 1 });
  const before = api.called('provision').length;
  const refused = [
    { deviceName: 'bogus-type', provisionDeviceKey: 'k', provisionDeviceSecret: 'secret', credentialsType: 'BOGUS' },
    { deviceName: 'number-token', provisionDeviceKey: 'k', provisionDeviceSecret: 'secret', token: 12345 },
    { deviceName: 'no-secret', provisionDeviceKey: 'k' },
  ];
  for (const body of refused) {
    const code = await new Promise<number | undefined>((resolve) => {
      c.publish('/provision/request', JSON.stringify(body), { qos: 1 }, (err) => resolve((err as { code?: number } | undefined)?.code ?? 0));
    });
    assert.equal(code, 0x80, `${body.deviceName}: PUBACK "bad request", as HTTP answers 400`);
    const res = JSON.parse((await inbox.next()).payload) as { status: string; errorMsg: string };
    assert.equal(res.status, 'FAILURE', body.deviceName);
    assert.match(res.errorMsg, /provision|credentialsType/);
  }
  assert.equal(api.called('provision').length, before, 'nothing reached provisioning');
  await c.endAsync();
});

test('namespaces: own devices/<name>/# only; tenants never see each other, even with equal names', async () => {
  const mine = await client(tb.url, { username: 'good', protocolVersion: 5 });
  const inbox = collect(mine);
  assert.equal((await mine.subscribeAsync('devices/sensor-1/#', { qos: 1 }))[0]?.qos, 1);
  const neighbour = await client(tb.url, { username: 'other', protocolVersion: 5 });
  assert.deepEqual(await subackCodes(neighbour, 'devices/sensor-1/#'), [0x87]);
  assert.deepEqual(await subackCodes(neighbour, 'devices/+/status'), [0x87], 'a wildcard reaching other devices is refused');
  const write = await new Promise<number | undefined>((resolve) => {
    neighbour.publish('devices/sensor-1/status', 'spoof', { qos: 1 }, (err) => resolve((err as { code?: number } | undefined)?.code));
  });
  assert.equal(write, 0x87);
  // Same device name, other tenant: its own namespace, a different topic space.
  const foreign = await client(tb.url, { username: 'foreign', protocolVersion: 5 });
  await foreign.publishAsync('devices/sensor-1/status', 'other tenant', { qos: 1 });
  await mine.publishAsync('devices/sensor-1/status', 'mine', { qos: 1 });
  assert.equal((await inbox.next()).payload, 'mine');
  await sleep(100);
  assert.equal(inbox.messages.length, 1);
  // 3.1.1 refusal code is 0x80.
  const v4 = await client(tb.url, { username: 'other', protocolVersion: 4 });
  assert.deepEqual(await subackCodes(v4, 'devices/sensor-1/#'), [0x80]);
  await Promise.all([mine.endAsync(), neighbour.endAsync(), foreign.endAsync(), v4.endAsync()]);
});
