/**
 * Block-wise uploads (RFC 7959 Block1): the assembler on its own, then libcoap uploading
 * through the transport with a new token per block.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Block1Assembler, encodeBlockOption, parseBlockOption } from '../../../../src/adapters/transport/coap/block1.js';
import { RawCoap, coapClient, startCoap, tmpFile, uriPath, type CoapHarness } from './helpers.js';

function bigTelemetry(bytes: number): string {
  const values: Record<string, number> = {};
  for (let i = 0; JSON.stringify(values).length < bytes; i++) values[`sensor_${i}`] = i * 1.5;
  return JSON.stringify(values);
}

describe('Block1 assembler', () => {
  it('round-trips block options', () => {
    for (const block of [
      { num: 0, more: true, szx: 2 },
      { num: 15, more: false, szx: 6 },
      { num: 4095, more: true, szx: 0 },
      { num: 70000, more: false, szx: 1 },
    ]) {
      assert.deepEqual(parseBlockOption(encodeBlockOption(block)), block);
    }
    assert.equal(parseBlockOption(Buffer.of(0x0f)), undefined, 'szx 7 is reserved');
  });

  it('reassembles in order, accepts a repeated block, refuses gaps and oversize bodies', () => {
    const a = new Block1Assembler({ maxBytes: 100 });
    const k = 'peer POST /x';
    assert.deepEqual(a.accept(k, { num: 0, more: true, szx: 0 }, Buffer.alloc(16, 'a')), { kind: 'continue' });
    assert.deepEqual(a.accept(k, { num: 1, more: true, szx: 0 }, Buffer.alloc(16, 'b')), { kind: 'continue' });
    assert.deepEqual(a.accept(k, { num: 1, more: true, szx: 0 }, Buffer.alloc(16, 'b')), { kind: 'continue' });
    const done = a.accept(k, { num: 2, more: false, szx: 0 }, Buffer.from('end'));
    assert.equal(done.kind, 'complete');
    assert.equal(done.kind === 'complete' && done.payload.toString(), `${'a'.repeat(16)}${'b'.repeat(16)}end`);
    assert.equal(a.size, 0);
    assert.deepEqual(a.accept(k, { num: 3, more: true, szx: 0 }, Buffer.alloc(16)), { kind: 'incomplete' });
    assert.deepEqual(a.accept(k, { num: 0, more: true, szx: 0 }, Buffer.alloc(16), 500), { kind: 'too-large' });
    for (let i = 0; i < 6; i++) a.accept(k, { num: i, more: true, szx: 0 }, Buffer.alloc(16));
    assert.deepEqual(a.accept(k, { num: 6, more: true, szx: 0 }, Buffer.alloc(16)), { kind: 'too-large' });
  });

  it('forgets idle transfers and keeps at most maxTransfers', () => {
    let now = 0;
    const a = new Block1Assembler({ maxBytes: 1000, ttlMs: 100, maxTransfers: 2, now: () => now });
    a.accept('one', { num: 0, more: true, szx: 0 }, Buffer.alloc(16));
    a.accept('two', { num: 0, more: true, szx: 0 }, Buffer.alloc(16));
    a.accept('three', { num: 0, more: true, szx: 0 }, Buffer.alloc(16));
    assert.equal(a.size, 2);
    assert.deepEqual(a.accept('one', { num: 1, more: true, szx: 0 }, Buffer.alloc(16)), { kind: 'incomplete' });
    now = 500;
    assert.deepEqual(a.accept('two', { num: 1, more: true, szx: 0 }, Buffer.alloc(16)), { kind: 'incomplete' });
    const b = new Block1Assembler({ maxBytes: 1000, maxTotalBytes: 100 });
    for (const k of ['p', 'q', 'r']) b.accept(k, { num: 0, more: true, szx: 1 }, Buffer.alloc(32));
    b.accept('p', { num: 1, more: true, szx: 1 }, Buffer.alloc(32)); // p is now the newest, q the oldest
    assert.equal(b.size, 2, 'over 100 bytes held: the least recently used transfer went');
    assert.deepEqual(b.accept('q', { num: 1, more: true, szx: 1 }, Buffer.alloc(32)), { kind: 'incomplete' });
  });

  it('regression: one client endpoint could hold every Block1 slot and push out the transfers of all others', () => {
    const a = new Block1Assembler({ maxBytes: 1000, maxTransfers: 10, maxPerEndpoint: 2 });
    a.accept('honest upload', { num: 0, more: true, szx: 0 }, Buffer.alloc(16), undefined, 'honest:5683');
    // The attacker opens far more transfers than the whole table holds, from one endpoint.
    for (let i = 0; i < 50; i++) a.accept(`attack ${i}`, { num: 0, more: true, szx: 0 }, Buffer.alloc(16), undefined, 'attacker:5683');
    assert.equal(a.size, 3, 'two of the attacker, one of the honest client');
    assert.deepEqual(a.accept('attack 0', { num: 1, more: true, szx: 0 }, Buffer.alloc(16), undefined, 'attacker:5683'), { kind: 'incomplete' });
    assert.deepEqual(a.accept('attack 49', { num: 1, more: true, szx: 0 }, Buffer.alloc(16), undefined, 'attacker:5683'), { kind: 'continue' });
    assert.deepEqual(a.accept('honest upload', { num: 1, more: false, szx: 0 }, Buffer.from('end'), undefined, 'honest:5683'), {
      kind: 'complete',
      payload: Buffer.concat([Buffer.alloc(16), Buffer.from('end')]),
    });
  });
});

describe('CoAP transport: Block1 uploads', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap({ maxPayloadBytes: 8192 });
    h.api.commitDelayMs = 5;
  });
  after(() => h.stop());

  it('stores a 2 KB JSON telemetry upload sent by libcoap in 64-byte blocks', async () => {
    const body = bigTelemetry(2048);
    const file = tmpFile('big.json', body);
    // -v 7: libcoap traces every block (at 6 only the first request and the last response).
    const r = await coapClient(['-v', '7', '-m', 'post', '-b', '64', '-t', 'application/json', '-f', file, h.url('good/telemetry')], 20_000);
    assert.equal(r.code, '2.04', r.stderr);
    const requests = new Map(r.lines.filter((l) => l.code === 'POST').map((l) => [l.mid, l]));
    assert.ok(requests.size >= 32, `${requests.size} blocks`);
    assert.ok(new Set([...requests.values()].map((l) => l.token)).size > 1, 'libcoap used a new token per block');
    assert.equal(new Set(r.responses.filter((l) => l.code === '2.31').map((l) => l.mid)).size, requests.size - 1);
    assert.match(r.responses.at(-1)?.options ?? '', /Block1:\d+\/_\/64/);
    const stored = h.api.published.at(-1);
    assert.equal(stored?.body, body);
    assert.equal(stored?.contentType, 'application/json');
  });

  it('stores attributes uploaded in 256-byte blocks', async () => {
    const body = JSON.stringify({ description: 'd'.repeat(1500) });
    const r = await coapClient(['-m', 'post', '-b', '256', '-t', 'application/json', '-f', tmpFile('attrs.json', body), h.url('good/attributes')]);
    assert.equal(r.code, '2.04');
    assert.equal(h.api.published.at(-1)?.body, body);
  });

  it('answers 4.08 for a block whose predecessors never arrived', async () => {
    const raw = new RawCoap(h.port);
    await raw.bind();
    try {
      raw.send({
        code: 'POST',
        messageId: 31,
        token: Buffer.from('31', 'hex'),
        confirmable: true,
        options: [...uriPath('/api/v1/good/telemetry'), { name: 'Block1', value: encodeBlockOption({ num: 3, more: true, szx: 2 }) }],
        payload: Buffer.alloc(64, 0x20),
      });
      assert.equal((await raw.next((p) => p.messageId === 31)).code, '4.08');
    } finally {
      raw.close();
    }
  });

  it('still answers 4.01 to a block-wise upload with a bad token, at the first block', async () => {
    const r = await coapClient(['-m', 'post', '-b', '64', '-t', 'application/json', '-f', tmpFile('b2.json', bigTelemetry(300)), h.url('bad/telemetry')]);
    assert.equal(r.code, '4.01');
    assert.equal(r.lines.filter((l) => l.code === 'POST').length, 1);
  });
});
