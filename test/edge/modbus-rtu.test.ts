/**
 * The Modbus RTU connector on a real serial line: socat links two pseudo-terminals, pymodbus
 * serves units 1 and 2 on one end (test/fixtures/modbus/rtu_server.py), the edge polls the other.
 * Register decoding and command writes behave as over TCP (modbus-plc.test.ts); what is RTU's
 * own: several units polled in turn on one line, per-request timeouts for a silent unit, CRC errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { loadEdgeConfig, parseEdgeConfig } from '../../src/edge/config.js';
import { ModbusRtuConnector, type ModbusRtuStatus } from '../../src/edge/connectors/modbus/index.js';
import type { Reading } from '../../src/edge/ports.js';
import { eventually } from '../support/platform.js';

const SLAVE_SCRIPT = 'test/fixtures/modbus/rtu_server.py';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const children: ChildProcess[] = [];

/** A linked pair of pseudo-terminals: what is written to one end is read on the other, like a null-modem cable. */
async function serialPair(): Promise<{ a: string; b: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'continuum-rtu-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  children.push(spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' }));
  await eventually(async () => (existsSync(a) && existsSync(b) ? true : undefined), 5000, 'socat pty pair');
  return { a, b };
}

let line: { a: string; b: string };
let slave: ChildProcess;
const writes: string[] = [];
let edge: Edge;
const readings: Reading[] = [];

const config = (path: string) => `
connectors:
  - type: modbus-rtu
    name: rs485
    path: ${path}
    baudRate: 19200
    parity: none
    timeoutMs: 300
    devices:
      - name: rtu-1
        unitId: 1
        pollMs: 200
        registers:
          - { key: r0, fc: 3, address: 0 }
          - { key: r2, fc: 3, address: 2 }
          - { key: temperature, fc: 3, address: 10, type: float32, wordOrder: big }
          - { key: coil0, fc: 1, address: 0, type: bool }
        commands:
          - { method: setR2, fc: 6, address: 2, type: uint16 }
          - { method: setCoil1, fc: 5, address: 1, type: bool }
      - name: rtu-2
        unitId: 2
        pollMs: 200
        registers:
          - { key: half, fc: 3, address: 0, scale: 0.5 }
          - { key: in3, fc: 4, address: 3, type: int16 }
        commands:
          - { method: setPair, fc: 16, address: 4, type: uint32 }
      - name: silent-9
        unitId: 9
        pollMs: 200
        registers:
          - { key: r0, fc: 3, address: 0 }
`;

before(async () => {
  line = await serialPair();
  slave = spawn('/usr/bin/python3', [SLAVE_SCRIPT, line.a, '19200', 'N', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(slave);
  slave.stdout?.on('data', (d: Buffer) => writes.push(...d.toString().split('\n').filter((l) => l.startsWith('write '))));
  const edgeConfig = parseEdgeConfig(config(line.b), {}, { offline: true });
  edge = await startEdge({ config: edgeConfig, dataDir: '', offline: true, logger: quiet, onReading: (r) => readings.push(r) });
});

after(async () => {
  await edge?.stop();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
});

const latest = (device: string, key: string): unknown => readings.filter((r) => r.device === device && key in r.values).at(-1)?.values[key];

test('two units on one line are polled in turn, decoded as over TCP', async () => {
  // The slave opens its end a moment after the edge starts, so the first requests may go unanswered.
  const complete = (device: string, keys: string[]): boolean => readings.some((r) => r.device === device && keys.every((k) => k in r.values));
  await eventually(async () => (complete('rtu-1', ['r0', 'r2', 'temperature', 'coil0']) && complete('rtu-2', ['half', 'in3']) ? true : undefined), 15_000, 'complete readings of both units');
  assert.equal(latest('rtu-1', 'r0'), 100);
  assert.equal(latest('rtu-1', 'r2'), 102);
  assert.equal(latest('rtu-1', 'temperature'), 21.5);
  assert.equal(latest('rtu-1', 'coil0'), true);
  assert.equal(latest('rtu-2', 'half'), 100, '200 × 0.5');
  assert.equal(latest('rtu-2', 'in3'), 3);
  assert.equal(edge.status().connectors[0]?.connected, true);
});

test('commands write a register, a coil and a 32-bit pair on the addressed unit', async () => {
  const connector = edge.connectors[0];
  assert.ok(connector);
  await connector.handleCommand('rtu-1', 'setR2', { value: 4242 });
  await connector.handleCommand('rtu-1', 'setCoil1', true);
  await connector.handleCommand('rtu-2', 'setPair', { value: 70000 });
  await eventually(async () => (writes.length >= 3 ? true : undefined), 5000, 'three writes seen by the slave');
  // pymodbus reports function codes in hex: 6 single register, 5 single coil, 16 = 0x10 multiple registers.
  assert.deepEqual(writes.slice(0, 3), ['write 1 6 2 4242', 'write 1 5 1 1', 'write 2 16 4 1,4464']);
  await eventually(async () => (latest('rtu-1', 'r2') === 4242 ? true : undefined), 5000, 'r2 = 4242 polled back');
  await assert.rejects(connector.handleCommand('rtu-1', 'setR2', { value: 70000 }), /out of range/);
  await assert.rejects(connector.handleCommand('rtu-2', 'nope', {}), /no command "nope"/);
});

test('a silent unit times out per request without reopening the line or stalling the others', async () => {
  const status = (): ModbusRtuStatus => edge.status().connectors[0] as ModbusRtuStatus;
  await eventually(async () => (status().timeouts >= 2 ? true : undefined), 10_000, 'timeouts of unit 9');
  const before = readings.filter((r) => r.device === 'rtu-1').length;
  await eventually(async () => (readings.filter((r) => r.device === 'rtu-1').length > before + 2 ? true : undefined), 10_000, 'rtu-1 still polled');
  assert.equal(status().connected, true);
  assert.equal(status().crcErrors, 0);
  assert.ok(!readings.some((r) => r.device === 'silent-9'));
});

test('CRC errors are counted (regression: a corrupted answer must be told apart from a silent slave)', async () => {
  const pair = await serialPair();
  // A slave with bad wiring: answers every request with the right length but a broken CRC.
  const bad = new SerialPort({ path: pair.a, baudRate: 19200 });
  bad.on('data', (req: Buffer) => {
    const frame = Buffer.from([req[0] ?? 1, 3, 2, 0x00, 0x2a, 0x00, 0x00]);
    bad.write(frame);
  });
  const cfg = parseEdgeConfig(config(pair.b), {}, { offline: true }).connectors[0];
  assert.ok(cfg && cfg.type === 'modbus-rtu');
  const connector = new ModbusRtuConnector({ ...cfg, devices: [{ name: 'noisy', unitId: 1, pollMs: 100, registers: [{ key: 'r0', fc: 3, address: 0, type: 'uint16' }], commands: [] }] }, quiet);
  const got: Reading[] = [];
  await connector.start({ reading: (r) => got.push(r) });
  try {
    await eventually(async () => (connector.status().crcErrors >= 2 ? true : undefined), 10_000, 'CRC errors counted');
    const s = connector.status();
    assert.equal(s.connected, true, 'a CRC error does not close the line');
    assert.equal(s.timeouts, 0);
    assert.ok(s.errors >= s.crcErrors);
    assert.match(s.lastError ?? '', /CRC/);
    assert.equal(got.length, 0, 'no reading from a corrupted frame');
  } finally {
    await connector.stop();
    await new Promise<void>((resolve) => bad.close(() => resolve()));
  }
});

test('the shipped example examples/edge/modbus-rtu.yaml loads with the serial defaults filled', () => {
  const c = loadEdgeConfig('examples/edge/modbus-rtu.yaml', { CONTINUUM_URL: 'mqtt://127.0.0.1:1883', CONTINUUM_GATEWAY_TOKEN: 't', MODBUS_SERIAL: '/dev/ttyUSB0' }).connectors[0];
  assert.ok(c && c.type === 'modbus-rtu');
  assert.deepEqual([c.path, c.baudRate, c.parity, c.dataBits, c.stopBits], ['/dev/ttyUSB0', 19200, 'even', 8, 1]);
  assert.deepEqual(c.devices.map((d) => d.unitId), [1, 2]);
  assert.throws(() => parseEdgeConfig(config('/dev/x').replace('unitId: 2', 'unitId: 1'), {}, { offline: true }), /unitId: 1 is used twice on \/dev\/x/);
});
