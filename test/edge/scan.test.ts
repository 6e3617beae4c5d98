/**
 * `continuum edge scan`: what it prints must paste into an edge config as is. Each scan runs
 * against a real peer (the pymodbus PLC; a simulated BACnet device), its stdout is parsed with
 * the edge config loader, and an edge started from that snippet reads the peer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ObjectType } from '@bacnet-js/client';
import { runEdgeFromCli, startEdge } from '../../src/edge/app.js';
import { parseEdgeConfig, type BacnetConfig, type ModbusTcpConfig } from '../../src/edge/config.js';
import type { Reading } from '../../src/edge/ports.js';
import { eventually } from '../support/platform.js';
import { enumerated, real, SimDevice } from '../fixtures/bacnet/device.js';
import { freePort, startPlc, type Plc } from './support.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let plc: Plc;
let sim: SimDevice;

before(async () => {
  plc = await startPlc();
  sim = await SimDevice.start({
    deviceId: 3003,
    name: 'Boiler Room',
    objects: [
      { type: ObjectType.ANALOG_INPUT, instance: 0, name: 'Flow Temp', value: real(61.5) },
      { type: ObjectType.ANALOG_VALUE, instance: 1, name: 'Flow Setpoint', value: real(60), commandable: true },
      { type: ObjectType.BINARY_INPUT, instance: 2, name: 'Burner Fault', value: enumerated(0) },
    ],
  });
});

after(async () => {
  sim?.stop();
  await plc?.stop();
});

async function scan(argv: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runEdgeFromCli(['scan', ...argv], { stdout, stderr, env: {} });
  return { code, out, err };
}

async function firstReading(config: ReturnType<typeof parseEdgeConfig>, device: string): Promise<Reading> {
  const readings: Reading[] = [];
  const edge = await startEdge({ config, dataDir: '', offline: true, logger: quiet, onReading: (r) => readings.push(r) });
  try {
    return await eventually(async () => readings.find((r) => r.device === device), 10_000, `a reading of ${device}`);
  } finally {
    await edge.stop();
  }
}

test('scan modbus prints every answering address as a modbus-tcp section that loads and runs', async () => {
  const { code, out, err } = await scan(['modbus', '--host', '127.0.0.1', '--port', String(plc.port), '--unit', '1', '--range', '0-200', '--timeout', '1000']);
  assert.equal(code, 0, err);
  assert.match(out, /key: hr0, fc: 3, address: 0, type: uint16 \}\s+# 1000/);
  const config = parseEdgeConfig(out, {}, { offline: true });
  const c = config.connectors[0] as ModbusTcpConfig;
  assert.equal(c.type, 'modbus-tcp');
  assert.equal(c.port, plc.port);
  const regs = c.devices[0]?.registers ?? [];
  // The PLC maps 100 addresses per table (shared/peers/pymodbus_server.py); 100-200 answer with exception 2.
  for (const fc of [1, 2, 3, 4] as const) assert.deepEqual(regs.filter((r) => r.fc === fc).map((r) => r.address), Array.from({ length: 100 }, (_, i) => i), `function code ${fc}`);
  c.devices[0]!.registers = regs.filter((r) => ['hr0', 'hr9', 'coil0', 'ir3'].includes(r.key));
  const reading = await firstReading(config, 'unit-1');
  assert.deepEqual(reading.values, { hr0: 1000, hr9: 1009, coil0: true, ir3: 3 });
});

test('scan modbus on a closed port fails with the reason and exit code 1; bad usage is 2', async () => {
  const closed = await scan(['modbus', '--host', '127.0.0.1', '--port', String(await freePort()), '--unit', '1']);
  assert.equal(closed.code, 1);
  assert.match(closed.err, /ECONNREFUSED/);
  const usage = await scan(['modbus', '--host', '127.0.0.1', '--unit', '1', '--range', '9-2']);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--range/);
  assert.equal((await scan(['lonworks'])).code, 2);
  const help = await scan(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /continuum edge scan bacnet/);
});

test('scan bacnet lists the device and its objects as a bacnet section that loads and runs', async () => {
  const { code, out, err } = await scan(['bacnet', '--target', sim.address, '--port', '0', '--interface', '127.0.0.1', '--wait', '300', '--timeout', '1000']);
  assert.equal(code, 0, err);
  assert.match(out, /key: "flow_temp", type: analog-input, instance: 0 \}\s+# "Flow Temp" = 61.5/);
  const config = parseEdgeConfig(out, {}, { offline: true });
  const c = config.connectors[0] as BacnetConfig;
  assert.equal(c.type, 'bacnet');
  const d = c.devices[0];
  assert.ok(d);
  assert.deepEqual([d.name, d.deviceId, d.address], ['boiler-room', 3003, sim.address]);
  assert.deepEqual(d.objects.map((o) => [o.key, o.type, o.instance]), [['flow_temp', 'analog-input', 0], ['flow_setpoint', 'analog-value', 1], ['burner_fault', 'binary-input', 2]]);
  assert.deepEqual(d.commands.map((m) => [m.method, m.object, m.instance, m.priority]), [['set_flow_setpoint', 'analog-value', 1, 8]]);
  // Run it: our side on any free loopback port instead of 47808.
  c.port = 0;
  c.interface = '127.0.0.1';
  const reading = await firstReading(config, 'boiler-room');
  assert.deepEqual(reading.values, { flow_temp: 61.5, flow_setpoint: 60, burner_fault: false });
});

test('scan bacnet with nobody answering prints an empty result and exit code 1', async () => {
  const { code, out } = await scan(['bacnet', '--target', `127.0.0.1:${await freePort()}`, '--port', '0', '--interface', '127.0.0.1', '--wait', '200']);
  assert.equal(code, 1);
  assert.match(out, /0 device\(s\) answered/);
});
