import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegisters, encodeRegisters, planReads, registerCount } from '../../src/protocols/modbus/registers.js';

const words = (buf: Buffer): number[] => Array.from({ length: buf.length / 2 }, (_, i) => buf.readUInt16BE(i * 2));

test('float32 in big and little word order, as the PLC sends 21.5', () => {
  const be = Buffer.alloc(4);
  be.writeFloatBE(21.5);
  const [hi, lo] = words(be) as [number, number];
  assert.equal(decodeRegisters([hi, lo], { type: 'float32', wordOrder: 'big' }), 21.5);
  assert.equal(decodeRegisters([lo, hi], { type: 'float32', wordOrder: 'little' }), 21.5);
  assert.notEqual(decodeRegisters([lo, hi], { type: 'float32', wordOrder: 'big' }), 21.5);
});

test('integers, byte order, scale and offset', () => {
  assert.equal(decodeRegisters([0xffff], { type: 'int16' }), -1);
  assert.equal(decodeRegisters([0xffff], { type: 'uint16' }), 65535);
  assert.equal(decodeRegisters([0x0001, 0x0002], { type: 'uint32' }), 0x00010002);
  assert.equal(decodeRegisters([0x0002, 0x0001], { type: 'uint32', wordOrder: 'little' }), 0x00010002);
  assert.equal(decodeRegisters([0xfffe, 0xffff], { type: 'int32', wordOrder: 'little' }), -2);
  assert.equal(decodeRegisters([0x3412], { type: 'uint16', byteOrder: 'little' }), 0x1234);
  assert.equal(decodeRegisters([1005], { type: 'uint16', scale: 0.1 }), 100.5);
  assert.equal(decodeRegisters([1000], { type: 'int16', scale: 0.5, offset: -40 }), 460);
  assert.equal(decodeRegisters([1], { type: 'bool' }), true);
});

test('float64 and strings', () => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(Math.PI);
  assert.equal(decodeRegisters(words(b), { type: 'float64' }), Math.PI);
  assert.equal(decodeRegisters(words(b).reverse(), { type: 'float64', wordOrder: 'little' }), Math.PI);
  assert.equal(decodeRegisters([0x504c, 0x432d, 0x3100, 0], { type: 'string', count: 4 }), 'PLC-1');
  assert.equal(registerCount('string', 4), 4);
  assert.equal(registerCount('float64'), 4);
});

test('encoding reverses decoding, with range checks', () => {
  for (const layout of [
    { type: 'float32', wordOrder: 'little' },
    { type: 'int32', wordOrder: 'big' },
    { type: 'uint16', scale: 0.1 },
    { type: 'int16', byteOrder: 'little' },
  ] as const) {
    const regs = encodeRegisters(-12.5 * (layout.type.startsWith('u') ? -1 : 1), layout);
    const back = decodeRegisters(regs, layout) as number;
    assert.ok(Math.abs(back - -12.5 * (layout.type.startsWith('u') ? -1 : 1)) <= 0.5, `${layout.type}: ${back}`);
  }
  assert.deepEqual(encodeRegisters('AB', { type: 'string', count: 2 }), [0x4142, 0]);
  assert.deepEqual(encodeRegisters(true, { type: 'bool' }), [1]);
  assert.throws(() => encodeRegisters(70000, { type: 'uint16' }), /out of range/);
  assert.throws(() => encodeRegisters('x', { type: 'uint16' }), /expected a number/);
});

test('reads are grouped per function code within the quantity limits of the spec', () => {
  const items = [
    ...Array.from({ length: 10 }, (_, i) => ({ key: `r${i}`, fc: 3 as const, address: i, type: 'uint16' as const })),
    { key: 't', fc: 3 as const, address: 10, type: 'float32' as const },
    { key: 'far', fc: 3 as const, address: 500, type: 'uint16' as const },
    { key: 'c', fc: 1 as const, address: 0, type: 'bool' as const },
    { key: 'big', fc: 4 as const, address: 0, type: 'uint16' as const },
    { key: 'big2', fc: 4 as const, address: 124, type: 'float32' as const },
  ];
  const blocks = planReads(items);
  assert.deepEqual(blocks.map((b) => [b.fc, b.address, b.quantity]), [[1, 0, 1], [3, 0, 12], [3, 500, 1], [4, 0, 1], [4, 124, 2]]);
});
