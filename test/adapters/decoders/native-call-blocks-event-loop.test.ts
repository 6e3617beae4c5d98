/**
 * Regression (issue 18 item 4, security): a decoder stuck inside a native built-in near the
 * memory cap (string growth by `repeat`, huge Array/TypedArray allocation, JSON.stringify of a
 * huge structure, regex backtracking) used to block the platform's event loop for 9–19 s, since
 * QuickJS's interrupt handler is not consulted inside native calls. Decoders now run on worker
 * threads with a watchdog: each hostile decoder below is stopped with a clear error, a timer on
 * the main thread kept ticking meanwhile (a blocked loop fires an interval at most once), and the
 * next good message decodes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerQuickJsDecoders } from '../../../src/adapters/decoders/quickjs/worker-decoders.js';

// The first byte picks the hostile behaviour; anything else decodes.
const HOSTILE: [name: string, body: string, expected: RegExp][] = [
  ['string grown by native repeat', "var s = 'x'; for (;;) s += 'x'.repeat(1 << 20);", /time limit|memory limit/],
  ["'x'.repeat(1 << 20) in a loop", "var a = []; for (;;) a.push('x'.repeat(1 << 20));", /time limit|memory limit/],
  ['huge Array', 'var a = new Array(1e8).fill(1);', /time limit|memory limit/],
  ['TypedArrays without bound', 'var a = []; for (;;) a.push(new Float64Array(1 << 20));', /time limit|memory limit/],
  ['JSON.stringify of a huge structure', 'var c = {}; for (var k = 0; k < 18; k++) c = { a: c, b: c }; JSON.stringify(c);', /time limit|memory limit/],
  ['catastrophic regex', "/^(a+)+$/.test('a'.repeat(40) + 'b');", /time limit/],
  ['infinite loop', 'for (;;) {}', /time limit/],
];

const SOURCE = `
function decodeUplink(input) {
  var b = input.bytes;
  ${HOSTILE.map(([, body], i) => `if (b[0] === ${i + 1}) { ${body} }`).join('\n  ')}
  if (b[0] === 100) return { data: { p: typeof process, r: typeof require, g: typeof globalThis.process, f: typeof fetch } };
  if (b[0] === 101) return { data: { env: process.env } };
  if (b[0] === 102) return { data: { fs: typeof require('fs') } };
  return { data: { temperature: ((b[1] << 8) | b[2]) / 10 } };
}
`;
const decoder = { profileId: 'hostile', source: SOURCE };

describe('decoder stuck in a native call blocks the event loop (regression)', () => {
  let decoders: WorkerQuickJsDecoders;
  before(async () => {
    decoders = new WorkerQuickJsDecoders({ timeLimitMs: 100, workers: 1 });
    // Compiled before the hostile calls, so each of them gets the call deadline.
    assert.deepEqual((await decoders.decode(decoder, { bytes: [0, 0, 215] })).data, { temperature: 21.5 });
  });
  after(() => decoders.close());

  /** Runs `work` with a 10 ms interval on the main thread; how often it fired meanwhile. */
  async function ticksDuring(work: Promise<unknown>): Promise<number> {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      await work.catch(() => undefined);
    } finally {
      clearInterval(timer);
    }
    return ticks;
  }

  for (const [i, [name, , expected]] of HOSTILE.entries()) {
    it(`${name}: stopped with a clear error, the event loop kept turning, the next message decodes`, async () => {
      const attempt = decoders.decode(decoder, { bytes: [i + 1, 0, 0] });
      const ticks = await ticksDuring(attempt);
      await assert.rejects(attempt, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'MALFORMED_PAYLOAD');
        assert.match(err.message, /decodeUplink: /);
        assert.match(err.message, expected);
        return true;
      });
      // A loop blocked for the whole call would have fired the interval once at most.
      assert.ok(ticks >= 3, `the main thread's interval fired ${ticks} times while the decoder ran`);
      assert.deepEqual((await decoders.decode(decoder, { bytes: [0, 0xff, 0x38] })).data, { temperature: 6533.6 });
      assert.deepEqual((await decoders.decode(decoder, { bytes: [0, 0, 7] })).data, { temperature: 0.7 });
    });
  }

  it('process, require and globalThis.process do not exist in the sandbox; reaching for them fails cleanly', async () => {
    assert.deepEqual((await decoders.decode(decoder, { bytes: [100] })).data, { p: 'undefined', r: 'undefined', g: 'undefined', f: 'undefined' });
    await assert.rejects(decoders.decode(decoder, { bytes: [101] }), /decodeUplink: ReferenceError: .*process/);
    await assert.rejects(decoders.decode(decoder, { bytes: [102] }), /decodeUplink: ReferenceError: .*require/);
    assert.deepEqual((await decoders.decode(decoder, { bytes: [0, 0, 1] })).data, { temperature: 0.1 });
  });

  it('good messages queued behind a stuck one are decoded by the fresh worker; the stuck one alone fails', async () => {
    const stuck = decoders.decode(decoder, { bytes: [1, 0, 0] });
    const behind = Array.from({ length: 20 }, (_, n) => decoders.decode(decoder, { bytes: [0, 0, n] }));
    await assert.rejects(stuck, /time limit/);
    const decoded = await Promise.all(behind);
    assert.deepEqual(
      decoded.map((d) => d.data.temperature),
      Array.from({ length: 20 }, (_, n) => n / 10),
    );
  });

  it('a source that blocks at load is refused as BAD_REQUEST by check, and the pool keeps serving', async () => {
    await assert.rejects(decoders.check("var s = 'x'; for (;;) s += 'x'.repeat(1 << 20); function decodeUplink() {}"), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.message, /time limit|memory limit/);
      return true;
    });
    assert.deepEqual(await decoders.check(SOURCE), { hasEncoder: false });
    assert.deepEqual((await decoders.decode(decoder, { bytes: [0, 0, 2] })).data, { temperature: 0.2 });
  });

  it('encodeDownlink through the worker: bytes back, and an encoder that blocks is stopped the same way', async () => {
    const enc = {
      profileId: 'encoder',
      source: `function decodeUplink(i) { return { data: {} }; }
function encodeDownlink(input) {
  if (input.data.method === 'hang') { var s = 'x'; for (;;) s += 'x'.repeat(1 << 20); }
  if (input.data.method === 'bad') return { bytes: [300] };
  return { bytes: [input.data.params.level & 255, 0xab], fPort: 3 };
}`,
    };
    assert.deepEqual(await decoders.encode(enc, { method: 'set', params: { level: 7 } }), { bytes: [7, 0xab], fPort: 3 });
    await assert.rejects(decoders.encode(enc, { method: 'hang', params: {} }), /encodeDownlink: .*(time limit|memory limit)/);
    await assert.rejects(decoders.encode(enc, { method: 'bad', params: {} }), /encodeDownlink: bytes must be an array of 0–255 integers/);
    await assert.rejects(decoders.encode(decoder, { method: 'set', params: {} }), (err: Error & { code?: string }) => err.code === 'BAD_REQUEST' && /no encodeDownlink/.test(err.message));
    assert.deepEqual(await decoders.encode(enc, { method: 'set', params: { level: 9 } }), { bytes: [9, 0xab], fPort: 3 });
  });
});
