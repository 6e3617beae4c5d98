/**
 * The shipped SMS example against real peers: the edge's SMS connector bound over SMPP to the
 * simulated SMSC, a pump on a coil of the pymodbus PLC, the platform in process. `PUMP ON` from
 * the whitelisted farmer switches the coil (read back with mbpoll); the same text from another
 * number is rejected and logged; a platform command to the GSM pump controller goes out as an
 * SMS and its delivery receipt settles the command; a local rule texts alerts to the farmer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig } from '../../src/edge/config.js';
import type { SmsConnectorStatus } from '../../src/edge/connectors/sms/index.js';
import { startSmscSimulator, type SmscSimulator, type Subscriber } from '../../src/simulator/sms/smsc.js';
import { gsmPumpController, type PumpController } from '../../src/simulator/sms/models.js';
import { startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';
import { readCoil, startPlc, type Plc } from './support.js';

let tp: TestPlatform;
let plc: Plc;
let smsc: SmscSimulator;
let edge: Edge;
let farmer: Subscriber;
let stranger: Subscriber;
let pump: PumpController;
const logs: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (obj: Record<string, unknown>, msg?: string) => void logs.push({ level, obj, ...(msg !== undefined ? { msg } : {}) })])) as unknown as Parameters<typeof startEdge>[0]['logger'];

const sms = (): SmsConnectorStatus => edge.connectors.find((c) => c.name === 'sms')?.status() as SmsConnectorStatus;

async function latest(device: string): Promise<Record<string, { value: unknown }>> {
  const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${device}`);
  const id = list.body.items.find((d) => d.name === device)?.id;
  if (!id) return {};
  return (await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${id}/telemetry/latest`)).body;
}

before(async () => {
  tp = await startTestPlatform();
  plc = await startPlc();
  smsc = await startSmscSimulator({ systemId: 'edge-1', password: 'secret' });
  farmer = smsc.handset('+491700000001');
  stranger = smsc.handset('+491512345678');
  pump = gsmPumpController(smsc, '+491700000002');
  const gateway = await tp.api.createDevice('edge-sms', { gateway: true });
  const config = loadEdgeConfig('examples/edge/sms-pump.yaml', {
    CONTINUUM_EDGE_URL: `mqtt://127.0.0.1:${tp.ports.mqtt}`,
    CONTINUUM_GATEWAY_TOKEN: gateway.accessToken,
    MODBUS_HOST: '127.0.0.1',
    MODBUS_PORT: String(plc.port),
    SMSC_HOST: '127.0.0.1',
    SMSC_PORT: String(smsc.port),
  });
  edge = await startEdge({ config, dataDir: tempDir(), logger });
});

after(async () => {
  await edge?.stop();
  pump?.close();
  await smsc?.close();
  await plc?.stop();
  await tp?.stop();
});

test('PUMP ON from the whitelisted farmer switches the Modbus coil and is answered', async () => {
  assert.equal(sms().connected, true);
  assert.deepEqual(smsc.bound, ['edge-1']);
  assert.equal(await readCoil(plc.port, 1), 0);
  farmer.send('+491700000000', 'PUMP ON');
  await eventually(async () => ((await readCoil(plc.port, 1)) === 1 ? true : undefined), 10_000, 'coil 1 on');
  await eventually(async () => (farmer.received.some((m) => m.text === 'PUMP ON: ok') ? true : undefined), 5000, 'reply to the farmer');
  const t = await eventually(async () => {
    const v = await latest('farmer-phone');
    return v.smsCommand ? v : undefined;
  }, 10_000, 'farmer-phone telemetry');
  assert.equal(t.sms?.value, 'PUMP ON');
  assert.equal(t.smsCommand?.value, 'pump-1.setPump');
  assert.equal(t.smsCommandOk?.value, true);
  await eventually(async () => ((await latest('pump-1')).pumpOn?.value === true ? true : undefined), 10_000, 'pump-1 polled back on');

  // The example's local rule texts the farmer once the polled coil shows the pump running.
  await eventually(async () => (farmer.received.some((m) => m.text === 'pump-1 is running') ? true : undefined), 10_000, 'running alert');

  farmer.send('+491700000000', 'pump off');
  await eventually(async () => ((await readCoil(plc.port, 1)) === 0 ? true : undefined), 10_000, 'coil 1 off (case-insensitive)');
  await eventually(async () => (farmer.received.some((m) => m.text === 'pump-1 stopped') ? true : undefined), 10_000, 'stopped alert');
});

test('PUMP ON from a number not on the whitelist is rejected and logged, never acted on', async () => {
  const before = sms().rejected;
  stranger.send('+491700000000', 'PUMP ON');
  const entry = await eventually(async () => logs.find((l) => l.msg === 'SMS rejected' && l.obj.from === '+491512345678'), 5000, 'rejection log line');
  assert.equal(entry.level, 'warn');
  assert.equal(entry.obj.text, 'PUMP ON');
  assert.equal(entry.obj.reason, 'unknown-sender');
  assert.equal(sms().rejected, before + 1);
  assert.deepEqual(sms().lastRejected, { from: '+491512345678', text: 'PUMP ON', reason: 'unknown-sender' });
  assert.equal(await readCoil(plc.port, 1), 0, 'coil unchanged');
  assert.deepEqual(stranger.received, [], 'strangers get no answer');

  // A whitelisted SIM with a text no pattern knows: rejected too, answered with rejectReply.
  farmer.send('+491700000000', 'OPEN THE GATE');
  await eventually(async () => (farmer.received.some((m) => m.text === 'NOT UNDERSTOOD') ? true : undefined), 5000, 'rejectReply');
  assert.equal(sms().rejected, before + 2);
  assert.equal(sms().lastRejected?.reason, 'no-pattern');
});

test('STOCK 3 becomes telemetry stock = 3 of the sender', async () => {
  farmer.send('+491700000000', 'STOCK 3');
  await eventually(async () => ((await latest('farmer-phone')).stock?.value === 3 ? true : undefined), 10_000, 'stock = 3');
});

test('a platform command to the GSM pump controller is an SMS; the delivery receipt settles it', async () => {
  const child = await eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=pump-ctl-1');
    return list.body.items.find((d) => d.name === 'pump-ctl-1');
  }, 10_000, 'child device pump-ctl-1');
  const sent = await tp.api.request<{ status: string; response: Record<string, unknown> }>('POST', `/api/devices/${child.id}/commands`, { method: 'setPump', params: { on: true }, timeoutMs: 10_000 });
  assert.equal(sent.body.status, 'SUCCESSFUL', JSON.stringify(sent.body));
  assert.equal(sent.body.response.text, 'PUMP ON');
  assert.equal(sent.body.response.delivered, true);
  assert.equal(sent.body.response.state, 'DELIVRD');
  assert.equal(pump.on, true);
  assert.equal(smsc.submitted.find((m) => m.messageId === sent.body.response.messageId)?.to, '+491700000002');
  // The controller's own answer, "PUMP IS ON", is telemetry of pump-ctl-1.
  await eventually(async () => ((await latest('pump-ctl-1')).pumpOn?.value === true ? true : undefined), 10_000, 'pumpOn of pump-ctl-1');

  pump.subscriber.offline = true;
  const failed = await tp.api.request<{ status: string; error?: string }>('POST', `/api/devices/${child.id}/commands`, { method: 'setPump', params: { on: false }, timeoutMs: 10_000 });
  assert.equal(failed.body.status, 'FAILED');
  assert.match(failed.body.error ?? '', /not delivered \(UNDELIV\)/);
  pump.subscriber.offline = false;
  assert.equal(sms().undelivered, 1);
});
