/**
 * The `frames` connector: checksums against their published check values, templates, field
 * layouts, the framer across chunk boundaries and garbage, then the connector against a small TCP
 * device written here (node:net) and over a socat pseudo-terminal pair for serial.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { parseEdgeConfig } from '../../src/edge/config.js';
import { checksum, checksumOk, decodeField, Framer, parseHexTemplate, renderTemplate } from '../../src/edge/connectors/frames/codec.js';
import { FramesConnector } from '../../src/edge/connectors/frames/index.js';
import type { FramesConfig } from '../../src/edge/connectors/frames/schema.js';
import type { Reading } from '../../src/edge/ports.js';
import { eventually, tempDir } from '../support/platform.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const CHECK = Buffer.from('123456789');

test('checksums give their catalogue check values over "123456789"', () => {
  assert.equal(checksum('crc16-modbus', CHECK), 0x4b37);
  assert.equal(checksum('crc16-ccitt', CHECK), 0x29b1);
  assert.equal(checksum('sum8', CHECK), 0xdd);
  assert.equal(checksum('xor8', CHECK), 0x31);
  // Modbus RTU "read holding registers 0..1 of unit 1": CRC 0x0BC4 sent as C4 0B.
  assert.deepEqual([...renderTemplate(parseHexTemplate('01 03 00 00 00 02 {crc16-modbus}'))], [0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xc4, 0x0b]);
  assert.equal(checksumOk({ type: 'crc16-modbus', from: 0, to: -2 }, Buffer.from('010300000002c40b', 'hex')), true);
  assert.equal(checksumOk({ type: 'crc16-modbus', from: 0, to: -2 }, Buffer.from('010300000002c40c', 'hex')), false);
  assert.throws(() => parseHexTemplate('01 0g'), /not hex/);
  assert.throws(() => parseHexTemplate('{value:u12}'), /unknown placeholder/);
  assert.throws(() => renderTemplate(parseHexTemplate('{value:u8}'), 256), /does not fit/);
  assert.deepEqual([...renderTemplate(parseHexTemplate('{value:i16le}'), -2)], [0xfe, 0xff]);
});

test('fields: every type, both byte orders, scale and offset, bits', () => {
  const frame = Buffer.from('ff fe 01 00 00 00 2a 41 20 00 00 48 69 00 00 a5'.replace(/ /g, ''), 'hex');
  const f = (over: Partial<Parameters<typeof decodeField>[0]>) => decodeField({ key: 'k', offset: 0, type: 'u8', endian: 'big', ...over }, frame);
  assert.equal(f({ type: 'u8' }), 255);
  assert.equal(f({ type: 'i8' }), -1);
  assert.equal(f({ type: 'i16' }), -2);
  assert.equal(f({ type: 'u16', offset: 1, endian: 'little' }), 0x01fe);
  assert.equal(f({ type: 'u32', offset: 3 }), 42);
  assert.equal(f({ type: 'i32', offset: 3, scale: 0.5, valueOffset: 1 }), 22);
  assert.equal(f({ type: 'f32', offset: 7 }), 10);
  assert.equal(f({ type: 'string', offset: 11, length: 4 }), 'Hi');
  assert.equal(f({ type: 'bits', offset: 15, bit: 0 }), true);
  assert.equal(f({ type: 'bits', offset: 15, bit: 1 }), false);
  assert.equal(f({ type: 'bits', offset: 15, bit: 4, bits: 4 }), 0xa);
  assert.equal(f({ type: 'f64', offset: 12 }), undefined, 'beyond the frame');
});

test('the framer: fixed, delimited and length framing across chunk boundaries, resynchronising after garbage', () => {
  const fixed = new Framer({ type: 'fixed', length: 3, start: 'AA' });
  assert.deepEqual(fixed.push(Buffer.from('0102aa01', 'hex')), []);
  assert.deepEqual(fixed.push(Buffer.from('02aa0304', 'hex')).map((b) => b.toString('hex')), ['aa0102', 'aa0304']);
  assert.equal(fixed.discarded, 2);

  const delimited = new Framer({ type: 'delimited', start: '02', end: '0d0a', maxLength: 8 });
  const out = [...delimited.push(Buffer.from('ff02414243', 'hex')), ...delimited.push(Buffer.from('0d0a02440d', 'hex')), ...delimited.push(Buffer.from('0a', 'hex'))];
  assert.deepEqual(out.map((b) => b.toString('hex')), ['024142430d0a', '02440d0a']);
  // Too long without an end: dropped, then the next frame is found.
  assert.deepEqual(delimited.push(Buffer.from('02010203040506070809020d0a', 'hex')).map((b) => b.toString('hex')), ['020d0a']);

  const length = new Framer({ type: 'length', start: 'AA', offset: 1, size: 1, endian: 'big', adjust: 2, maxLength: 16 });
  // AA 03 x y z: the field counts 3 bytes after itself, the frame is 3 + 2.
  const frames = [...length.push(Buffer.from('aaff', 'hex')), ...length.push(Buffer.from('aa03010203aa0109', 'hex'))];
  assert.deepEqual(frames.map((b) => b.toString('hex')), ['aa03010203', 'aa0109']);
});

/** A "scale" on TCP: answers every request with a frame; the test can push anything it likes. */
class ScaleDevice {
  readonly received: Buffer[] = [];
  private socket: Socket | undefined;
  weight = 1234;

  private constructor(readonly server: Server) {}

  static async start(): Promise<ScaleDevice> {
    const server = createServer((socket) => device.accept(socket));
    const device = new ScaleDevice(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return device;
  }

  private accept(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.received.push(chunk);
      if (chunk[0] === 0xaa && chunk[1] === 0x03 && chunk[2] === 0x00) socket.write(ScaleDevice.frame(1, this.weight, 0b01));
    });
    socket.on('error', () => undefined);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** AA <len> <id> <weight i32 BE> <flags> <crc16-modbus LE>, len counting the bytes after it. */
  static frame(id: number, weight: number, flags: number): Buffer {
    const body = Buffer.alloc(8);
    body.writeUInt8(0xaa, 0);
    body.writeUInt8(8, 1);
    body.writeUInt8(id, 2);
    body.writeInt32BE(weight, 3);
    body.writeUInt8(flags, 7);
    const crc = checksum('crc16-modbus', body);
    return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
  }

  push(bytes: Buffer): void {
    this.socket?.write(bytes);
  }

  dropClient(): void {
    this.socket?.destroy();
  }

  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function loadExample(): FramesConfig[] {
  const config = parseEdgeConfig(readFileSync('examples/edge/frames.yaml', 'utf8'), {}, { offline: true });
  return config.connectors.filter((c): c is FramesConfig => c.type === 'frames');
}

test('TCP device: polled with a request frame, readings decoded, bad checksums counted and never stored, commands written, reconnect', async () => {
  const device = await ScaleDevice.start();
  const [example] = loadExample();
  assert.ok(example);
  const config: FramesConfig = { ...example, transport: { type: 'tcp', host: '127.0.0.1', port: device.port }, request: { hex: 'AA 03 00 {crc16-modbus}', pollMs: 50 }, reconnect: { minMs: 20, maxMs: 100 } };
  const readings: Reading[] = [];
  const connector = new FramesConnector(config, quiet);
  await connector.start({ reading: (r) => readings.push(r) });
  try {
    await eventually(async () => (readings.length >= 2 ? true : undefined), 5000, 'polled readings');
    assert.deepEqual(readings[0]?.values, { weight: 1.234, stable: true, overload: false });
    assert.equal(readings[0]?.device, 'scale-1');

    // A frame with a broken CRC, noise, a frame for an unknown scale id, then a good one in two pieces.
    const bad = ScaleDevice.frame(1, 999_999, 0);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    const good = ScaleDevice.frame(1, -500, 0b10);
    device.push(Buffer.concat([bad, Buffer.from('0102', 'hex'), ScaleDevice.frame(7, 1, 0), good.subarray(0, 4)]));
    device.push(good.subarray(4));
    await eventually(async () => (readings.some((r) => r.values.weight === -0.5) ? true : undefined), 5000, 'the good frame');
    assert.equal(readings.some((r) => r.values.weight === 999.999), false, 'bad checksum never stored');
    const s = connector.status();
    assert.equal(s.badChecksum, 1);
    assert.equal(s.unmatched, 1);
    assert.ok(s.discardedBytes >= 2);
    const ts = readings.map((r) => r.ts);
    assert.ok(ts.every((t, i) => i === 0 || t > (ts[i - 1] as number)), 'timestamps strictly increase');

    const reply = await connector.handleCommand('scale-1', 'setFilter', { value: 3 });
    assert.deepEqual(reply, { written: renderTemplate(parseHexTemplate('AA 06 01 46 00 03 {crc16-modbus}')).toString('hex') });
    await eventually(async () => (device.received.some((b) => b.includes(Buffer.from('aa06014600', 'hex'))) ? true : undefined), 5000, 'command bytes');
    await assert.rejects(connector.handleCommand('scale-1', 'explode', {}), /no command/);
    await assert.rejects(connector.handleCommand('scale-1', 'setFilter', { value: 70000 }), /does not fit/);

    // The device drops the connection: the connector reconnects and polling resumes.
    device.dropClient();
    const before = readings.length;
    await eventually(async () => (readings.length > before + 1 && connector.status().connected ? true : undefined), 5000, 'readings after reconnect');
  } finally {
    await connector.stop();
    await device.close();
  }
});

test('serial line over a socat pty pair: delimited frames with an XOR checksum', async (t) => {
  const dir = tempDir();
  const ours = join(dir, 'ttyEdge');
  const theirs = join(dir, 'ttyDevice');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${ours}`, `pty,raw,echo=0,link=${theirs}`], { stdio: 'ignore' });
  t.after(() => {
    socat.kill('SIGTERM');
  });
  await eventually(async () => (existsSync(ours) && existsSync(theirs) ? true : undefined), 5000, 'socat ptys');
  const [, example] = loadExample();
  assert.ok(example);
  const config: FramesConfig = { ...example, transport: { type: 'serial', path: ours, baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 } };
  const readings: Reading[] = [];
  const connector = new FramesConnector(config, quiet);
  await connector.start({ reading: (r) => readings.push(r) });
  const station = new SerialPort({ path: theirs, baudRate: 19200 });
  await once(station, 'open');
  try {
    // STX, temperature i16 LE ×0.1, humidity u8, pressure u16 LE ×0.1 + 500, "W01", XOR, ETX.
    const payload = Buffer.from([0xe7, 0x00, 55, 0x10, 0x27, 0x57, 0x30, 0x31]);
    const xor = payload.reduce((a, b) => a ^ b, 0);
    station.write(Buffer.concat([Buffer.from([0x02]), payload, Buffer.from([xor, 0x03])]));
    station.write(Buffer.concat([Buffer.from([0x02]), payload, Buffer.from([xor ^ 1, 0x03])]));
    await eventually(async () => (readings.length >= 1 && connector.status().badChecksum === 1 ? true : undefined), 5000, 'serial frames');
    assert.equal(readings.length, 1);
    const v = readings[0]?.values as Record<string, number | string>;
    assert.equal(v.temperature, 23.1);
    assert.equal(v.humidity, 55);
    assert.equal(Math.round((v.pressure as number) * 10) / 10, 1500);
    assert.equal(v.station, 'W01');
  } finally {
    await new Promise((resolve) => station.close(resolve));
    await connector.stop();
  }
});
