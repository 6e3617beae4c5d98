/**
 * Local notifications through the edge's own SMS link, with no platform at all (--offline): a
 * local rule on the pymodbus PLC's temperature raises an edge alarm and texts the operator with
 * the `sms` action (free text, rendered on the edge) over SMPP to the simulated SMSC; the clear
 * texts again and clears the alarm. Configuration checks refuse an `sms` action that names no
 * SMS device.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import { startSmscSimulator, type SmscSimulator, type Subscriber } from '../../src/simulator/sms/smsc.js';
import { eventually, tempDir } from '../support/platform.js';
import { startPlc, writeFloat, type Plc } from './support.js';

let plc: Plc;
let smsc: SmscSimulator;
let operator: Subscriber;
let edge: Edge | undefined;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const config = (rules: string) => `
connectors:
  - type: modbus-tcp
    host: 127.0.0.1
    port: \${MODBUS_PORT}
    devices:
      - name: boiler
        pollMs: 100
        registers:
          - { key: temperature, address: 10, type: float32 }
  - type: sms
    name: sms
    transport: smpp
    smpp:
      host: 127.0.0.1
      port: \${SMSC_PORT}
      systemId: edge-1
      password: secret
      sourceAddr: "+491700000000"
    devices:
      - { name: operator-phone, number: "+491700000009" }
    patterns: []
rules:
${rules}
`;

const RULES = `
  - name: boiler hot
    device: boiler
    condition: temperature > 80
    actions:
      - { type: alarm, alarmType: BoilerHot, severity: critical }
      - { type: sms, device: operator-phone, text: "\${deviceName} at \${temperature} C" }
    clearActions:
      - { type: sms, device: operator-phone, text: "\${deviceName} back to \${temperature} C" }
`;

before(async () => {
  plc = await startPlc(120);
  smsc = await startSmscSimulator({ systemId: 'edge-1', password: 'secret' });
  operator = smsc.handset('+491700000009');
});
after(async () => {
  await edge?.stop();
  await smsc?.close();
  await plc?.stop();
});

const env = () => ({ MODBUS_PORT: String(plc.port), SMSC_PORT: String(smsc.port) });

test('a local rule texts the operator through the edge SMS connector and raises/clears an edge alarm, offline', async () => {
  await writeFloat(plc.port, 10, 21.5);
  edge = await startEdge({ config: parseEdgeConfig(config(RULES), env(), { offline: true }), dataDir: tempDir(), offline: true, logger: quiet });
  await writeFloat(plc.port, 10, 85);
  await eventually(async () => (operator.received.some((m) => m.text === 'boiler at 85 C') ? true : undefined), 10_000, `alert text: ${JSON.stringify(operator.received)}`);
  assert.equal(operator.received.find((m) => m.text === 'boiler at 85 C')?.from.replace(/\D/g, ''), '491700000000');
  const open = edge.alarms.list().find((a) => a.type === 'BoilerHot');
  assert.ok(open && open.clearedAt === undefined && open.severity === 'critical' && open.device === 'boiler');
  await writeFloat(plc.port, 10, 60);
  await eventually(async () => (operator.received.some((m) => m.text === 'boiler back to 60 C') ? true : undefined), 10_000, 'clear text');
  await eventually(async () => (edge?.alarms.list().every((a) => a.clearedAt !== undefined) ? true : undefined), 5000, 'alarm cleared (autoClear)');
  assert.equal(operator.received.filter((m) => m.text.startsWith('boiler at')).length, 1, 'texted once per raise');
});

test('an sms action must name a device of an SMS connector; alarm actions need a type and a known severity', () => {
  const bad = `
  - name: bad
    device: boiler
    condition: temperature > 80
    actions:
      - { type: sms, device: boiler, text: "hot" }
      - { type: alarm, severity: apocalyptic }
      - { type: webhook, url: "http://example.com" }
  - name: bad schedule
    trigger: schedule
    schedule: { every: 10ms }
    actions: [{ type: log, message: tick }]
`;
  assert.throws(() => parseEdgeConfig(config(bad), env(), { offline: true }), (err: Error) => {
    for (const expected of ['rules[0].actions[0].device', 'rules[0].actions[1].alarmType', 'rules[0].actions[1].severity', 'rules[0].actions[2].type', 'rules[1].schedule.every']) assert.ok(err.message.includes(expected), `${expected} in ${err.message}`);
    return true;
  });
});
