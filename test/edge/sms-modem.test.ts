/**
 * The SMS connector's modem transport against the GSM modem emulator through a socat pty pair
 * (AT commands over a real serial line), offline: a text stored on the SIM before the edge
 * started is read at start-up (AT+CMGL), `PUMP ON` from the farmer becomes an SMS command to the
 * GSM pump controller (AT+CMGS, settled by its +CDS status report), the controller's answer is
 * telemetry, and a stranger is rejected; every read message is deleted from the SIM.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { SmsConnectorStatus } from '../../src/edge/connectors/sms/index.js';
import type { Reading } from '../../src/edge/ports.js';
import { startModemEmulator, type ModemEmulator } from '../../src/simulator/sms/modem.js';
import { gsmPumpController, type PumpController } from '../../src/simulator/sms/models.js';
import { openPtyPair, type PtyPair } from '../../src/simulator/sms/pty.js';
import { startSmscSimulator, type SmscSimulator, type Subscriber } from '../../src/simulator/sms/smsc.js';
import { eventually, tempDir } from '../support/platform.js';

let smsc: SmscSimulator;
let pty: PtyPair;
let modem: ModemEmulator;
let edge: Edge;
let farmer: Subscriber;
let pump: PumpController;
const readings: Reading[] = [];
const logs: { msg?: string; obj: Record<string, unknown> }[] = [];
const logger = { debug() {}, info() {}, error() {}, warn: (obj: Record<string, unknown>, msg?: string) => void logs.push({ obj, ...(msg !== undefined ? { msg } : {}) }) };
const GATEWAY = '+491700000000';
const ptyDir = tempDir();

before(async () => {
  smsc = await startSmscSimulator();
  pty = await openPtyPair({ dir: ptyDir });
  modem = await startModemEmulator({ path: pty.modemSide, smsc, number: GATEWAY, pin: '4321' });
  farmer = smsc.handset('+491700000001');
  pump = gsmPumpController(smsc, '+491700000002');
  // Arrives while the edge is not running: it waits on the SIM.
  farmer.send(GATEWAY, 'STOCK 5');
  assert.equal(modem.stored.size, 1);
  const yaml = `
connectors:
  - type: sms
    transport: modem
    modem: { path: ${pty.hostSide}, baudRate: 115200, pin: "4321", commandTimeoutMs: 3000, keepaliveMs: 200, reconnect: { minMs: 50, maxMs: 200 } }
    devices:
      - { name: farmer-phone, number: "+491700000001" }
      - name: pump-ctl-1
        number: "+491700000002"
        commands: [{ method: setPump, text: "PUMP {on}", map: { "true": "ON", "false": "OFF" } }]
    patterns:
      - { match: '^PUMP (ON|OFF)$', from: [farmer-phone], command: { device: pump-ctl-1, method: setPump, params: { on: "$1" } }, map: { "ON": true, "OFF": false }, reply: "PUMP $1: {result}" }
      - { match: '^STOCK (\\d+)$', telemetry: { stock: "$1" } }
      - { match: '^PUMP IS (ON|OFF)$', from: [pump-ctl-1], telemetry: { pumpOn: "$1" }, map: { "ON": true, "OFF": false } }
`;
  const config = parseEdgeConfig(yaml, {}, { offline: true });
  edge = await startEdge({ config, dataDir: tempDir(), offline: true, logger, onReading: (r) => readings.push(r) });
});

after(async () => {
  await edge?.stop();
  pump?.close();
  await modem?.close();
  await pty?.close();
  await smsc?.close();
});

const status = (): SmsConnectorStatus => edge.connectors[0]?.status() as SmsConnectorStatus;

test('the modem is initialised in text mode with status reports, and a stored SMS is read and deleted', async () => {
  assert.equal(status().connected, true);
  // AT+CMGL runs right after start() resolved, so it may still be on its way.
  await eventually(async () => (modem.commands.includes('AT+CMGL="ALL"') ? true : undefined), 5000, 'AT+CMGL');
  const init = modem.commands.slice(modem.commands.indexOf('ATE0'));
  assert.deepEqual(init.slice(0, 7), ['ATE0', 'AT+CPIN?', 'AT+CPIN="4321"', 'AT+CMGF=1', 'AT+CSMP=49,167,0,0', 'AT+CNMI=2,1,0,1,0', 'AT+CMGL="ALL"']);
  const r = await eventually(async () => readings.find((x) => x.device === 'farmer-phone' && x.values.stock === 5), 5000, 'stock = 5');
  assert.equal(r.values.sms, 'STOCK 5');
  await eventually(async () => (modem.stored.size === 0 ? true : undefined), 5000, 'SIM emptied');
});

test('PUMP ON from the farmer becomes an SMS command to the GSM pump controller, settled by +CDS', async () => {
  farmer.send(GATEWAY, 'PUMP ON');
  await eventually(async () => (pump.on ? true : undefined), 10_000, 'pump controller switched on');
  const done = await eventually(async () => readings.find((x) => x.device === 'farmer-phone' && x.values.smsCommand === 'pump-ctl-1.setPump'), 10_000, 'command outcome');
  assert.equal(done.values.smsCommandOk, true, JSON.stringify(done.values));
  await eventually(async () => readings.find((x) => x.device === 'pump-ctl-1' && x.values.smsDelivered === true), 5000, 'delivery noted');
  await eventually(async () => readings.find((x) => x.device === 'pump-ctl-1' && x.values.pumpOn === true), 10_000, 'controller answer as telemetry');
  await eventually(async () => (farmer.received.some((m) => m.text === 'PUMP ON: ok') ? true : undefined), 10_000, 'reply to the farmer');
  assert.equal(status().delivered >= 1, true);
  assert.ok(modem.commands.includes('AT+CMGS="+491700000002"'));
  await eventually(async () => (modem.stored.size === 0 ? true : undefined), 5000, 'SIM emptied');
});

test('a stranger is rejected and logged; an undeliverable command fails with the TP-Status', async () => {
  const stranger = smsc.handset('+491609999999');
  stranger.send(GATEWAY, 'PUMP OFF');
  const line = await eventually(async () => logs.find((l) => l.msg === 'SMS rejected'), 5000, 'rejection logged');
  assert.equal(line.obj.from, '+491609999999');
  assert.equal(line.obj.text, 'PUMP OFF');
  assert.equal(pump.on, true, 'never acted on');
  assert.equal(status().rejected, 1);

  pump.subscriber.offline = true;
  const sms = edge.connectors[0];
  assert.ok(sms);
  await assert.rejects(sms.handleCommand('pump-ctl-1', 'setPump', { on: false }), /not delivered \(65\)/);
  pump.subscriber.offline = false;
});

test('a modem that goes away is noticed by the idle AT and reopened once it is back', async () => {
  await modem.close();
  await pty.close();
  await eventually(async () => (status().connected ? undefined : true), 10_000, 'modem lost');
  assert.match(logs.map((l) => l.msg).join(','), /GSM modem lost/);
  pty = await openPtyPair({ dir: ptyDir });
  modem = await startModemEmulator({ path: pty.modemSide, smsc, number: GATEWAY, pin: '4321' });
  await eventually(async () => (status().connected ? true : undefined), 10_000, 'modem back');
  farmer.send(GATEWAY, 'STOCK 9');
  await eventually(async () => readings.find((x) => x.device === 'farmer-phone' && x.values.stock === 9), 10_000, 'stock = 9 through the new modem');
});
