/**
 * The payload decoder sandbox (QuickJS): a TTN-style decoder decodes and encodes; one that loops
 * forever, allocates without bound or reaches for host objects is stopped with a clear error,
 * and the same compiled context decodes the next good message. Prints the cost per decode.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { QuickJSWASMModule } from 'quickjs-emscripten';
import { compileSandbox, quickJs } from '../../../src/adapters/decoders/quickjs/sandbox.js';

const GOOD = `
function decodeUplink(input) {
  var t = ((input.bytes[0] << 8) | input.bytes[1]) / 100;
  if (input.fPort === 9) return { data: {}, errors: ['unknown port 9'] };
  if (input.bytes[2] === 1) while (true) {}
  if (input.bytes[2] === 2) { var a = []; while (true) a.push(new Array(100000).fill(1)); }
  if (input.bytes[2] === 3) return { data: { p: typeof process, r: typeof require, g: typeof globalThis.process, f: typeof fetch } };
  if (input.bytes[2] === 4) return { data: { x: process.env } };
  return { data: { temperature: t }, warnings: [] };
}
function encodeDownlink(input) { return { bytes: [input.data.on ? 1 : 0], fPort: 2 }; }
`;

describe('payload decoder sandbox (QuickJS)', () => {
  let qjs: QuickJSWASMModule;
  before(async () => {
    qjs = await quickJs();
  });

  it('decodes and encodes the TTN way, with the compiled context reused', () => {
    const s = compileSandbox(qjs, GOOD);
    try {
      assert.deepEqual(s.decodeUplink({ bytes: [0x08, 0x34], fPort: 1 }).data, { temperature: 21 });
      assert.deepEqual(s.encodeDownlink({ data: { on: true } }), { bytes: [1], fPort: 2 });
      assert.throws(() => s.decodeUplink({ bytes: [0, 0], fPort: 9 }), /decodeUplink: unknown port 9/);
      const n = 2000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) s.decodeUplink({ bytes: [i & 0xff, 0x34], fPort: 1 });
      const perMessageUs = ((performance.now() - t0) * 1000) / n;
      console.log(`decode cost: ${perMessageUs.toFixed(1)} µs per message (${n} messages, one compiled context)`);
    } finally {
      s.dispose();
    }
  });

  it('stops a decoder that loops forever, allocates without bound, or reaches for process/require; the next good message decodes', () => {
    const s = compileSandbox(qjs, GOOD, { timeLimitMs: 50, memoryLimitBytes: 16 * 1024 * 1024 });
    try {
      assert.throws(() => s.decodeUplink({ bytes: [8, 0x34, 1] }), /decodeUplink: stopped after 50 ms \(time limit\)/);
      assert.deepEqual(s.decodeUplink({ bytes: [8, 0x34] }).data, { temperature: 21 });
      assert.throws(() => s.decodeUplink({ bytes: [8, 0x34, 2] }), /decodeUplink: stopped at the memory limit/);
      assert.deepEqual(s.decodeUplink({ bytes: [8, 0x34] }).data, { temperature: 21 });
      // No host object exists in the sandbox: not process, require, globalThis.process nor fetch.
      assert.deepEqual(s.decodeUplink({ bytes: [8, 0x34, 3] }).data, { p: 'undefined', r: 'undefined', g: 'undefined', f: 'undefined' });
      assert.throws(() => s.decodeUplink({ bytes: [8, 0x34, 4] }), /decodeUplink: ReferenceError: .*process/);
      assert.deepEqual(s.decodeUplink({ bytes: [8, 0x34] }).data, { temperature: 21 });
    } finally {
      s.dispose();
    }
  });

  it('checks the source at save: syntax errors, a missing decodeUplink and a loop at load are 400s', () => {
    assert.throws(() => compileSandbox(qjs, 'function decodeUplink(input) { return {'), (e: Error & { code?: string }) => e.code === 'BAD_REQUEST' && /SyntaxError/.test(e.message));
    assert.throws(() => compileSandbox(qjs, 'var x = 1;'), /defines no function decodeUplink/);
    assert.throws(() => compileSandbox(qjs, 'while (true) {}'), /time limit/);
  });
});
