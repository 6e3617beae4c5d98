/**
 * The SMPP client against an SMSC run in-test with the `smpp` package's server: bind, submit_sm in
 * GSM 7-bit / UCS2 / concatenated parts, enquire_link both ways, error statuses, reconnects.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSmppSender, type SmppOptions, type SmppSender } from '../../../src/adapters/notify/smpp/index.js';
import { decodeText, encodeText } from '../../../src/protocols/smpp/encoding.js';
import { createMemorySmsSender } from '../../../src/adapters/notify/memory/sms.js';
import { isPlatformError } from '../../../src/domain/errors.js';
import type { Logger } from '../../../src/ports.js';
import { startSmsc, type TestSmsc } from '../../support/smsc.js';
import { eventually } from '../../support/platform.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

const senders: SmppSender[] = [];
const smscs: TestSmsc[] = [];
after(async () => {
  for (const s of senders) await s.close();
  for (const s of smscs) await s.close();
});

async function setup(extra: Partial<SmppOptions> = {}): Promise<{ smsc: TestSmsc; sender: SmppSender }> {
  const smsc = await startSmsc({ systemId: 'continuum', password: 'secret' });
  smscs.push(smsc);
  const sender = createSmppSender({ host: '127.0.0.1', port: smsc.port, systemId: 'continuum', password: 'secret', sourceAddr: 'Continuum', logger: quiet, reconnect: { initialMs: 50, maxMs: 200 }, responseTimeoutMs: 2000, ...extra });
  senders.push(sender);
  return { smsc, sender };
}

function code(err: unknown, want: string, pattern: RegExp): boolean {
  assert.ok(isPlatformError(err), String(err));
  assert.equal(err.code, want);
  assert.match(err.message, pattern);
  return true;
}

describe('SMS text encoding', () => {
  it('uses GSM 7-bit when it can, UCS2 otherwise, and splits long texts with a UDH', () => {
    const gsm = encodeText('Stock {low}: 4 € left', 7);
    assert.equal(gsm.dataCoding, 0);
    assert.equal(gsm.parts.length, 1);
    // "{", "}" and "€" are extension characters: escape + code, two septets each.
    assert.equal(gsm.parts[0]?.length, 21 + 3);
    assert.equal(decodeText(gsm.parts[0] ?? Buffer.alloc(0), 0, false), 'Stock {low}: 4 € left');
    assert.equal(encodeText('Склад ✓', 7).dataCoding, 8);
    assert.equal(encodeText('x'.repeat(160), 7).parts.length, 1);
    const long = encodeText('x'.repeat(161), 9);
    assert.deepEqual(long.parts.map((p) => [...p.subarray(0, 6)]), [
      [5, 0, 3, 9, 2, 1],
      [5, 0, 3, 9, 2, 2],
    ]);
    // A surrogate pair (emoji) is never cut between parts.
    const emoji = encodeText(`${'é'.repeat(66)}😀😀😀`, 1);
    assert.equal(emoji.dataCoding, 8);
    assert.deepEqual(emoji.parts.map((p) => p.length), [6 + 132, 6 + 12]);
    assert.equal(emoji.parts.map((p) => decodeText(p, 8, true)).join(''), `${'é'.repeat(66)}😀😀😀`);
  });
});

describe('SMPP client (smpp package SMSC)', () => {
  it('binds as transmitter and submits GSM, UCS2 and concatenated messages', async () => {
    const { smsc, sender } = await setup();
    assert.deepEqual(await sender.send({ to: '+15550100', text: 'vend-042: only 4 left of cola' }), { messageId: 'msg-1', parts: 1 });
    await sender.send({ to: '0049301234', text: 'Склад пуст ✓', from: '+4930999' });
    const long = 'Restock needed. '.repeat(15);
    assert.equal((await sender.send({ to: '+15550100', text: long })).parts, 2);
    assert.deepEqual(smsc.binds, ['continuum']);
    const [first, second, ...parts] = smsc.received;
    assert.deepEqual(first, { systemId: 'continuum', source: 'Continuum', sourceTon: 5, destination: '15550100', destinationTon: 1, dataCoding: 0, esmClass: 0, text: 'vend-042: only 4 left of cola' });
    assert.deepEqual([second?.source, second?.sourceTon, second?.destination, second?.destinationTon, second?.dataCoding, second?.text], ['4930999', 1, '0049301234', 0, 8, 'Склад пуст ✓']);
    assert.equal(parts.length, 2);
    assert.ok(parts.every((p) => p.esmClass === 0x40));
    assert.deepEqual(parts.map((p) => p.udh?.slice(1)), [[2, 1], [2, 2]]);
    assert.equal(parts.map((p) => p.text).join(''), long);
  });

  it('keeps the link alive with enquire_link and answers the SMSC\'s own', async () => {
    const { smsc, sender } = await setup({ enquireLinkMs: 100 });
    await sender.send({ to: '+15550100', text: 'hello' });
    await eventually(async () => (smsc.enquireLinks >= 2 ? true : undefined), 5000, 'enquire_link from the client');
    assert.equal(await smsc.probe(), 1);
  });

  it('maps command_status to platform errors and refuses bad input before the SMSC', async () => {
    const { smsc, sender } = await setup();
    smsc.submitStatus = 0x0b;
    await assert.rejects(sender.send({ to: '+15550100', text: 'x' }), (e) => code(e, 'BAD_REQUEST', /ESME_RINVDSTADR/));
    smsc.submitStatus = 0x58;
    await assert.rejects(sender.send({ to: '+15550100', text: 'x' }), (e) => code(e, 'QUOTA_EXCEEDED', /ESME_RTHROTTLED/));
    smsc.submitStatus = 0x08;
    await assert.rejects(sender.send({ to: '+15550100', text: 'x' }), (e) => code(e, 'UNAVAILABLE', /ESME_RSYSERR/));
    await assert.rejects(sender.send({ to: 'supplier', text: 'x' }), (e) => code(e, 'BAD_REQUEST', /not a phone number/));
    await assert.rejects(sender.send({ to: '+15550100', text: '' }), (e) => code(e, 'BAD_REQUEST', /empty/));
    assert.equal(smsc.received.length, 0);
  });

  it('reports a refused bind and keeps retrying with backoff', async () => {
    const { smsc, sender } = await setup({ password: 'wrong', responseTimeoutMs: 500 });
    await assert.rejects(sender.send({ to: '+15550100', text: 'x' }), (e) => code(e, 'UNAVAILABLE', /not bound.*ESME_RINVPASWD/));
    assert.ok(smsc.binds.length >= 2, `bind attempts: ${smsc.binds.length}`);
    assert.equal(sender.bound, false);
  });

  it('reconnects after the SMSC drops the connection', async () => {
    const { smsc, sender } = await setup({ reconnect: { initialMs: 400, maxMs: 400 } });
    await sender.send({ to: '+15550100', text: 'before' });
    smsc.dropAll();
    await eventually(async () => (smsc.binds.length === 2 && sender.bound ? true : undefined), 5000, 'rebind');
    await sender.send({ to: '+15550100', text: 'after' });
    assert.deepEqual(smsc.received.map((r) => r.text), ['before', 'after']);
    // Sent while the link is down: waits for the rebind instead of failing at once. (A submit in
    // flight when the link drops fails: it is not resent, since the SMSC may have taken it.)
    smsc.dropAll();
    await eventually(async () => (sender.bound ? undefined : true), 2000, 'link down');
    await sender.send({ to: '+15550100', text: 'during' });
    assert.equal(smsc.received.at(-1)?.text, 'during');
  });

  it('fails with UNAVAILABLE when no SMSC answers, and stops after close', async () => {
    const { smsc, sender } = await setup({ responseTimeoutMs: 300 });
    await sender.send({ to: '+15550100', text: 'x' });
    await smsc.close();
    await assert.rejects(sender.send({ to: '+15550100', text: 'y' }), (e) => code(e, 'UNAVAILABLE', /not bound|closed/));
    await sender.close();
    await assert.rejects(sender.send({ to: '+15550100', text: 'z' }), (e) => code(e, 'UNAVAILABLE', /closed/));
  });
});

describe('in-memory SMS sender', () => {
  it('keeps what it was asked to send', async () => {
    const mem = createMemorySmsSender();
    assert.deepEqual(await mem.send({ to: '+1555', text: 'hi' }), { messageId: 'mem-1', parts: 1 });
    assert.deepEqual(mem.sent, [{ to: '+1555', text: 'hi', messageId: 'mem-1' }]);
  });
});
