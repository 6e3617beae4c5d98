/**
 * Interop: our SMPP client against Net::SMPP (Perl, Debian libnet-smpp-perl) acting as the SMSC,
 * an implementation we did not write (test/fixtures/smpp/smsc.pl). The expected bytes are built
 * here from the specifications, not with our encoder.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createSmppSender, type SmppSender } from '../../../src/adapters/notify/smpp/index.js';
import { isPlatformError } from '../../../src/domain/errors.js';
import type { Logger } from '../../../src/ports.js';
import { eventually } from '../../support/platform.js';

const script = fileURLToPath(new URL('../../fixtures/smpp/smsc.pl', import.meta.url));
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

type Event = Record<string, unknown> & { event: string };
let perl: ChildProcessWithoutNullStreams;
let port: number;
const events: Event[] = [];
let stderr = '';

before(async () => {
  perl = spawn('/usr/bin/perl', [script, 'continuum', 'secret']);
  perl.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: perl.stdout });
  port = await new Promise<number>((resolve, reject) => {
    perl.once('exit', (code) => reject(new Error(`smsc.pl exited ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else events.push(JSON.parse(line) as Event);
    });
  });
});
after(() => {
  if (perl.exitCode === null) perl.kill();
});

const hex = (b: Buffer): string => b.toString('hex');
const ucs2 = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();

it('binds, submits GSM / UCS2 / concatenated SMS, keeps alive, maps a refusal, and unbinds with Net::SMPP as the SMSC', async () => {
  const long = 'Restock vend-042 today please. '.repeat(6); // 186 characters: two parts
  let sender: SmppSender | undefined = createSmppSender({ host: '127.0.0.1', port, systemId: 'continuum', password: 'secret', sourceAddr: '+4930999', logger: quiet, responseTimeoutMs: 3000, enquireLinkMs: 100 });
  try {
    assert.deepEqual(await sender.send({ to: '+15550100', text: 'vend-042: only 4 items left of cola' }), { messageId: 'perl-1', parts: 1 });
    await sender.send({ to: '+15550100', text: 'Stück: 4 ✓' });
    assert.equal((await sender.send({ to: '+15550100', text: long })).parts, 2);
    await assert.rejects(sender.send({ to: '999', text: 'x' }), (e) => isPlatformError(e, 'BAD_REQUEST') && /ESME_RINVDSTADR/.test(e.message));
    await eventually(async () => (events.some((e) => e.event === 'enquire_link') ? true : undefined), 5000, 'enquire_link at Net::SMPP');
    await sender.close();
    sender = undefined;
    await eventually(async () => (events.some((e) => e.event === 'closed') ? true : undefined), 5000, 'Net::SMPP session end');
  } finally {
    await sender?.close();
  }
  assert.equal(stderr, '');
  assert.deepEqual(events[0], { event: 'bind', system_id: 'continuum', interface_version: 0x34, ok: true });
  assert.ok(events.some((e) => e.event === 'enquire_link'));
  const submits = events.filter((e) => e.event === 'submit_sm');
  assert.equal(submits.length, 5);
  // GSM 03.38: these characters have the same code as in ASCII.
  assert.deepEqual(submits[0], {
    event: 'submit_sm',
    source_addr: '4930999',
    source_addr_ton: 1,
    destination_addr: '15550100',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    data_coding: 0,
    esm_class: 0,
    short_message_hex: hex(Buffer.from('vend-042: only 4 items left of cola', 'latin1')),
  });
  // "✓" is not in GSM 03.38, so the whole text goes as UCS2 (data_coding 8, UTF-16BE).
  assert.equal(submits[1]?.data_coding, 8);
  assert.equal(submits[1]?.short_message_hex, hex(ucs2('Stück: 4 ✓')));
  // Concatenated: esm_class UDHI, UDH 05 00 03 <ref> 02 <n>, 153 + 33 septets.
  const [p1, p2] = [submits[2], submits[3]];
  assert.equal(p1?.esm_class, 0x40);
  const b1 = Buffer.from(String(p1?.short_message_hex), 'hex');
  const b2 = Buffer.from(String(p2?.short_message_hex), 'hex');
  assert.deepEqual([...b1.subarray(0, 6)], [5, 0, 3, b1[3], 2, 1]);
  assert.deepEqual([...b2.subarray(0, 6)], [5, 0, 3, b1[3], 2, 2]);
  assert.equal(b1.subarray(6).toString('latin1') + b2.subarray(6).toString('latin1'), long);
  assert.equal(b1.length - 6, 153);
  assert.deepEqual(events.slice(-2), [{ event: 'unbind' }, { event: 'closed' }]);
});
