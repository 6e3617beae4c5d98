/**
 * The simulated SMSC against SMPP peers: our edge transport (transceiver), the `smpp` npm
 * package as an independent ESME, and the platform's SMS notifier; device models on handsets;
 * the GSM modem emulator through a socat pty pair, driven by raw AT commands.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SerialPort } from 'serialport';
import smpp, { type PDU } from 'smpp';
import { SmppTransport } from '../../src/edge/connectors/sms/smpp-transport.js';
import type { DeliveryReport, InboundSms } from '../../src/edge/connectors/sms/transport.js';
import { createSmppSender } from '../../src/adapters/notify/smpp/index.js';
import { startSmscSimulator, type SmscSimulator } from '../../src/simulator/sms/smsc.js';
import { gsmPumpController, gsmTracker, trackerPosition } from '../../src/simulator/sms/models.js';
import { startModemEmulator } from '../../src/simulator/sms/modem.js';
import { openPtyPair } from '../../src/simulator/sms/pty.js';
import { eventually } from '../support/platform.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function smsc(options: Parameters<typeof startSmscSimulator>[0] = {}): Promise<SmscSimulator> {
  const s = await startSmscSimulator(options);
  cleanups.push(() => s.close());
  return s;
}

function transport(port: number, systemId = 'edge', password = 'pw') {
  const warnings: string[] = [];
  const logger = { ...quiet, warn: (o: object) => void warnings.push(JSON.stringify(o)) };
  const t = new SmppTransport({ host: '127.0.0.1', port, systemId, password, systemType: '', sourceAddr: '+491700000000', enquireLinkMs: 30_000, responseTimeoutMs: 2000, reconnect: { minMs: 50, maxMs: 200 } }, logger, 'test');
  const inbox: InboundSms[] = [];
  const reports: DeliveryReport[] = [];
  cleanups.push(() => t.stop());
  return { t, inbox, reports, warnings, start: () => t.start({ sms: (m) => inbox.push(m), report: (r) => reports.push(r), link: () => undefined }) };
}

test('a transceiver ESME texts the GSM pump controller, gets its receipt and its answer', async () => {
  const s = await smsc({ systemId: 'edge', password: 'pw' });
  const pump = gsmPumpController(s, '+491700000002');
  const esme = transport(s.port);
  await esme.start();
  assert.equal(esme.t.connected, true);
  const { messageId } = await esme.t.send('+491700000002', 'PUMP ON', true);
  const report = await eventually(async () => esme.reports.find((r) => r.messageId === messageId), 5000, 'delivery receipt');
  assert.equal(report.delivered, true);
  assert.equal(report.state, 'DELIVRD');
  assert.equal(pump.on, true);
  const answer = await eventually(async () => esme.inbox.find((m) => m.from === '+491700000002'), 5000, 'pump answer');
  assert.equal(answer.text, 'PUMP IS ON');
  assert.equal(answer.to, '+491700000000');
});

test('texts to a switched-off or unknown number get an UNDELIV receipt; long texts arrive whole', async () => {
  const s = await smsc();
  const phone = s.handset('+491700000009');
  const esme = transport(s.port);
  await esme.start();
  phone.offline = true;
  const off = await esme.t.send('+491700000009', 'hello', true);
  const unknown = await esme.t.send('+491799999999', 'hello', true);
  for (const id of [off.messageId, unknown.messageId]) {
    const r = await eventually(async () => esme.reports.find((x) => x.messageId === id), 5000, 'receipt');
    assert.equal(r.delivered, false);
    assert.equal(r.state, 'UNDELIV');
  }
  phone.offline = false;
  const long = 'Ü'.repeat(150) + ' end';
  await esme.t.send('+491700000009', long, false);
  await eventually(async () => (phone.received.some((m) => m.text === long) ? true : undefined), 5000, 'reassembled text');
});

test('bad credentials are refused with ESME_RINVPASWD; the smpp package binds and receives a handset text', async () => {
  const s = await smsc({ systemId: 'edge', password: 'pw' });
  const wrong = transport(s.port, 'edge', 'nope');
  await wrong.start();
  assert.equal(wrong.t.connected, false);
  await eventually(async () => (/bind_transceiver refused: ESME_RINVPASWD/.test(wrong.warnings.join('\n')) ? true : undefined), 5000, 'refusal logged');
  await wrong.t.stop();

  // The `smpp` package as an ESME (an implementation we did not write).
  const connect = (smpp as unknown as { connect(url: string): import('smpp').Session }).connect;
  const session = connect(`smpp://127.0.0.1:${s.port}`);
  session.on('error', () => undefined);
  cleanups.push(() => session.destroy());
  const bound = await new Promise<PDU>((resolve) => (session as unknown as { bind_transceiver(o: object, cb: (p: PDU) => void): void }).bind_transceiver({ system_id: 'edge', password: 'pw' }, resolve));
  assert.equal(bound.command_status, 0);
  const delivered = new Promise<PDU>((resolve) =>
    session.on('deliver_sm', (pdu: PDU) => {
      session.send(pdu.response());
      resolve(pdu);
    }),
  );
  const tracker = gsmTracker(s, '+491700000007', { to: '+491700000000', intervalMs: 60_000 });
  cleanups.push(() => tracker.close());
  const pdu = await delivered;
  const p = trackerPosition(0, 53.5413, 9.9666);
  assert.equal((pdu.short_message as { message: string }).message, `POS ${p.lat},${p.lon} ${p.speed}`);
  assert.equal(pdu.source_addr, '491700000007');
  assert.equal(pdu.source_addr_ton, 1);

  const submitted = await new Promise<PDU>((resolve) => (session as unknown as { submit_sm(o: object, cb: (p: PDU) => void): void }).submit_sm({ source_addr: '491700000000', source_addr_ton: 1, destination_addr: '491700000007', dest_addr_ton: 1, short_message: 'hello tracker' }, resolve));
  assert.equal(submitted.command_status, 0);
  assert.match(String(submitted.message_id), /^[0-9a-f]{8}$/);
  assert.equal(tracker.subscriber.received[0]?.text, 'hello tracker');
});

test('the platform SMS notifier (transmitter bind) reaches a handset', async () => {
  const s = await smsc();
  const phone = s.handset('+491700000005');
  const logger = { ...quiet, child: () => logger, fatal() {}, trace() {} } as unknown as Parameters<typeof createSmppSender>[0]['logger'];
  const sender = createSmppSender({ host: '127.0.0.1', port: s.port, systemId: 'platform', password: 'x', logger, responseTimeoutMs: 3000 });
  cleanups.push(() => sender.close());
  const res = await sender.send({ to: '+491700000005', text: 'Alarm: tank low' });
  assert.equal(res.parts, 1);
  assert.deepEqual(phone.received, [{ from: 'SMSC', text: 'Alarm: tank low' }]);
});

test('the GSM modem emulator answers the TS 27.005 text-mode subset over a pty', async () => {
  const s = await smsc();
  const pty = await openPtyPair();
  cleanups.push(() => pty.close());
  const modem = await startModemEmulator({ path: pty.modemSide, smsc: s, number: '+491700000000', pin: '1234' });
  cleanups.push(() => modem.close());
  const phone = s.handset('+491700000001');
  const port = new SerialPort({ path: pty.hostSide, baudRate: 115200 });
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  let seen = '';
  port.on('data', (d: Buffer) => (seen += d.toString()));
  const at = async (cmd: string, until: RegExp): Promise<string> => {
    seen = '';
    port.write(cmd);
    return eventually(async () => (until.test(seen) ? seen : undefined), 5000, `answer to ${JSON.stringify(cmd)}`);
  };
  assert.match(await at('AT\r', /OK\r\n$/), /^AT\r\r\nOK/, 'echo on until ATE0');
  await at('ATE0\r', /OK\r\n$/);
  assert.match(await at('AT+CMGF=1\r', /\+CME ERROR: 11/), /SIM PIN required|11/);
  assert.match(await at('AT+CPIN?\r', /OK\r\n$/), /\+CPIN: SIM PIN/);
  await at('AT+CPIN="1234"\r', /OK\r\n$/);
  await at('AT+CMGF=1\r', /OK\r\n$/);
  await at('AT+CSMP=49,167,0,0\r', /OK\r\n$/);
  await at('AT+CNMI=2,1,0,1,0\r', /OK\r\n$/);
  seen = '';
  phone.send('+491700000000', 'STOCK 3');
  const cmti = await eventually(async () => /\+CMTI: "SM",(\d+)/.exec(seen) ?? undefined, 5000, '+CMTI');
  const read = await at(`AT+CMGR=${cmti[1]}\r`, /OK\r\n$/);
  assert.match(read, /\+CMGR: "REC UNREAD","\+491700000001",,"\d\d\/\d\d\/\d\d,\d\d:\d\d:\d\d\+00"\r\nSTOCK 3\r\n/);
  await at(`AT+CMGD=${cmti[1]}\r`, /OK\r\n$/);
  assert.equal(modem.stored.size, 0);
  assert.match(await at('AT+CMGR=9\r', /ERROR/), /\+CMS ERROR: 321/);
  assert.match(await at('AT+CMGS="+491700000001"\r', /> $/), /\r\n> $/);
  const sent = await at('hello phone\x1a', /\+CDS: .*\r\n/);
  const mr = /\+CMGS: (\d+)/.exec(sent)?.[1];
  assert.ok(mr);
  assert.match(sent, new RegExp(`\\+CDS: 6,${mr},"\\+491700000001",145,"[^"]+","[^"]+",0`));
  assert.equal(phone.received[0]?.text, 'hello phone');
  assert.match(await at('AT+BOGUS\r', /ERROR/), /\r\nERROR\r\n/);
});

test('an ESME rebinds after the SMSC restarts; texts sent meanwhile are held for it', async () => {
  const first = await startSmscSimulator();
  const port = first.port;
  const esme = transport(port);
  await esme.start();
  assert.equal(esme.t.connected, true);
  await first.close();
  await eventually(async () => (esme.t.connected ? undefined : true), 5000, 'link down');
  const second = await smsc({ port });
  const phone = second.handset('+491700000001');
  phone.send('+491700000000', 'sent while the edge was away');
  await eventually(async () => (esme.t.connected ? true : undefined), 10_000, 'rebound');
  const m = await eventually(async () => esme.inbox.find((x) => x.text === 'sent while the edge was away'), 5000, 'held text delivered');
  assert.equal(m.from, '+491700000001');
});

test('bad input to the SMSC: malformed submit_sm is ESME_RINVMSGLEN, submit before bind ESME_RINVBNDSTS, unframeable bytes close only that session', async () => {
  const s = await smsc();
  const { connect } = await import('node:net');
  const { CMD, encodePdu, PduReader } = await import('../../src/protocols/smpp/short-message.js');
  const raw = connect(s.port, '127.0.0.1');
  cleanups.push(() => void raw.destroy());
  const reader = new PduReader();
  const got: { commandId: number; status: number; sequence: number }[] = [];
  raw.on('data', (c: Buffer) => got.push(...reader.push(c)));
  raw.on('error', () => undefined);
  raw.write(encodePdu(CMD.submit_sm, 1, Buffer.from([0])));
  assert.equal((await eventually(async () => got.find((p) => p.sequence === 1), 5000, 'resp 1')).status, 0x04);
  raw.write(encodePdu(CMD.bind_transceiver, 2, Buffer.from('x\u0000\u0000\u0000\u0034\u0000\u0000\u0000', 'latin1')));
  assert.equal((await eventually(async () => got.find((p) => p.sequence === 2), 5000, 'bind resp')).status, 0);
  raw.write(encodePdu(CMD.submit_sm, 3, Buffer.from('\u0000\u0001\u0001', 'latin1')));
  assert.equal((await eventually(async () => got.find((p) => p.sequence === 3), 5000, 'resp 3')).status, 0x01);
  const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
  raw.write(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4]));
  await closed;
  const esme = transport(s.port);
  await esme.start();
  assert.equal(esme.t.connected, true, 'the SMSC still serves others');
});
