/**
 * SMS connector configuration and pattern matching, and what the connector does with bad input
 * from an SMSC (a raw SMPP peer written here from our PDU code, to send what no SMSC should).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { parseEdgeConfig } from '../../src/edge/config.js';
import { PatternSet, renderText } from '../../src/edge/connectors/sms/patterns.js';
import { SmppTransport } from '../../src/edge/connectors/sms/smpp-transport.js';
import { CMD, encodePdu, encodeSm, PduReader, type Pdu } from '../../src/protocols/smpp/short-message.js';
import type { InboundSms } from '../../src/edge/connectors/sms/transport.js';
import { eventually } from '../support/platform.js';

const ENV = { CONTINUUM_URL: 'mqtt://127.0.0.1:1883', CONTINUUM_GATEWAY_TOKEN: 't', MODBUS_HOST: 'h', MODBUS_PORT: '502', SMSC_HOST: 'h', SMSC_PORT: '2775' };

test('the shipped example parses with defaults filled', () => {
  const config = parseEdgeConfig(readFileSync('examples/edge/sms-pump.yaml', 'utf8'), ENV);
  const sms = config.connectors.find((c) => c.type === 'sms');
  assert.ok(sms && sms.type === 'sms');
  assert.equal(sms.smpp?.port, 2775);
  assert.equal(sms.smpp?.reconnect.minMs, 1000);
  assert.equal(sms.patterns[0]?.ignoreCase, true);
  assert.equal(sms.replyToStrangers, false);
});

test('every SMS configuration problem is listed with its path', () => {
  const yaml = `
connectors:
  - type: sms
    transport: smpp
    devices:
      - { name: a, number: "+491700000001" }
      - { name: b, number: "491700000001" }
      - { name: c, number: "not-a-number" }
    patterns:
      - { match: "^PUMP (ON$", telemetry: { x: "$1" } }
      - { match: "^X$" }
      - { match: "^Y$", command: { device: nowhere, method: m } }
      - { match: "^Z$", from: [zed], telemetry: { z: 1 } }
`;
  assert.throws(() => parseEdgeConfig(yaml, {}, { offline: true }), /devices\[2\]\.number/);
  const fixed = yaml.replace('not-a-number', '+491700000003');
  let message = '';
  try {
    parseEdgeConfig(fixed, {}, { offline: true });
  } catch (err) {
    message = (err as Error).message;
  }
  for (const expected of [
    'connectors[0].smpp: required with transport smpp',
    'connectors[0].devices[1].number: 491700000001 is listed twice',
    'connectors[0].patterns[0].match: Invalid regular expression',
    'connectors[0].patterns[1]: needs telemetry or command',
    'connectors[0].patterns[2].command.device: no device "nowhere" on this edge',
    'connectors[0].patterns[3].from: "zed" is not a device of this connector',
  ]) assert.ok(message.includes(expected), `missing "${expected}" in:\n${message}`);
});

test('patterns: whitelist first, whole-text match, map then number typing, from restriction', () => {
  const set = new PatternSet({
    devices: [
      { name: 'farmer', number: '+491700000001', commands: [] },
      { name: 'shop', number: '+491700000005', commands: [] },
    ],
    patterns: [
      { match: '^PUMP (ON|OFF)$', ignoreCase: true, from: ['farmer'], command: { device: 'pump-1', method: 'setPump', params: { value: '$1', note: 'by $0' } }, map: { ON: true, OFF: false } },
      { match: '^STOCK (\\d+)$', ignoreCase: true, telemetry: { stock: '$1', label: 'stock $1' } },
    ],
  });
  assert.deepEqual(set.decide('+491799999999', 'PUMP ON'), { kind: 'rejected', reason: 'unknown-sender' });
  const on = set.decide('491700000001', ' pump on ');
  assert.equal(on.kind, 'command');
  assert.deepEqual(on.kind === 'command' && on.params, { value: true, note: 'by pump on' });
  assert.equal(set.decide('+491700000001', 'PUMP ON PLEASE').kind, 'rejected');
  assert.equal(set.decide('+491700000005', 'PUMP ON').kind, 'rejected', 'the shop may not switch the pump');
  const stock = set.decide('+491700000005', 'STOCK 12');
  assert.deepEqual(stock.kind === 'telemetry' && stock.values, { stock: 12, label: 'stock 12' });
});

test('the documented tracker pattern reads the simulated tracker\'s POS texts', async () => {
  const { trackerPosition } = await import('../../src/simulator/sms/models.js');
  const set = new PatternSet({
    devices: [{ name: 'truck-7', number: '+491700000007', commands: [] }],
    patterns: [{ match: '^POS (-?\\d+\\.\\d+),(-?\\d+\\.\\d+) (\\d+)$', ignoreCase: true, telemetry: { latitude: '$1', longitude: '$2', speed: '$3' } }],
  });
  const p = trackerPosition(5, 53.5413, 9.9666);
  const d = set.decide('+491700000007', `POS ${p.lat},${p.lon} ${p.speed}`);
  assert.deepEqual(d.kind === 'telemetry' && d.values, { latitude: p.lat, longitude: p.lon, speed: p.speed });
});

test('outbound text templates: {key}, {} and map; a missing key is an error naming it', () => {
  assert.equal(renderText('PUMP {on}', { on: true }, { true: 'ON', false: 'OFF' }), 'PUMP ON');
  assert.equal(renderText('SET {}', 42, undefined), 'SET 42');
  assert.equal(renderText('GO {speed} {unit}', { speed: 3, unit: 'kmh' }, undefined), 'GO 3 kmh');
  assert.throws(() => renderText('PUMP {on}', {}, undefined), /params need "on"/);
});

test('a malformed deliver_sm is answered ESME_RSYSERR and logged; the session goes on', async () => {
  const answers: Pdu[] = [];
  let peer: Socket | undefined;
  const server = createServer((socket) => {
    peer = socket;
    const reader = new PduReader();
    socket.on('data', (chunk: Buffer) => {
      for (const pdu of reader.push(chunk)) {
        if (pdu.commandId === CMD.bind_transceiver) socket.write(encodePdu(CMD.bind_transceiver_resp, pdu.sequence, Buffer.from('RAW\u0000')));
        else answers.push(pdu);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const warnings: { obj: Record<string, unknown>; msg?: string }[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (obj: Record<string, unknown>, msg?: string) => void warnings.push({ obj, ...(msg !== undefined ? { msg } : {}) }) };
  const t = new SmppTransport({ host: '127.0.0.1', port: (server.address() as { port: number }).port, systemId: 'e', password: '', systemType: '', sourceAddr: '', enquireLinkMs: 30_000, responseTimeoutMs: 2000, reconnect: { minMs: 50, maxMs: 100 } }, logger, 'sms');
  const inbox: InboundSms[] = [];
  try {
    await t.start({ sms: (m) => inbox.push(m), report: () => undefined, link: () => undefined });
    assert.equal(t.connected, true);
    // service_type and source address, then the body ends: no destination, no short message.
    peer?.write(encodePdu(CMD.deliver_sm, 7, Buffer.from('\u0000\u0001\u0001491700000001\u0000', 'latin1')));
    const nack = await eventually(async () => answers.find((a) => a.sequence === 7), 5000, 'deliver_sm_resp');
    assert.equal(nack.commandId, CMD.deliver_sm_resp);
    assert.equal(nack.status, 0x08);
    assert.equal(warnings[0]?.msg, 'malformed deliver_sm');
    assert.match(String(warnings[0]?.obj.err), /body too short|C-octet/);
    // A receipt without any message id is malformed too.
    peer?.write(encodePdu(CMD.deliver_sm, 8, encodeSm({ source: { ton: 1, npi: 1, addr: '491700000001' }, destination: { ton: 1, npi: 1, addr: '49170' }, esmClass: 0x04, registeredDelivery: 0, dataCoding: 0, shortMessage: Buffer.from('stat:DELIVRD') })));
    assert.equal((await eventually(async () => answers.find((a) => a.sequence === 8), 5000, 'resp 8')).status, 0x08);
    peer?.write(encodePdu(CMD.deliver_sm, 9, encodeSm({ source: { ton: 1, npi: 1, addr: '491700000001' }, destination: { ton: 1, npi: 1, addr: '49170' }, esmClass: 0, registeredDelivery: 0, dataCoding: 0, shortMessage: Buffer.from('STOCK 1') })));
    assert.equal((await eventually(async () => answers.find((a) => a.sequence === 9), 5000, 'resp 9')).status, 0);
    assert.deepEqual(inbox, [{ from: '+491700000001', to: '+49170', text: 'STOCK 1' }]);
    // An unknown request gets generic_nack ESME_RINVCMDID.
    peer?.write(encodePdu(0x00000103, 10));
    const generic = await eventually(async () => answers.find((a) => a.sequence === 10), 5000, 'generic_nack');
    assert.equal(generic.commandId, CMD.generic_nack);
    assert.equal(generic.status, 0x03);
    assert.equal(t.connected, true);
  } finally {
    await t.stop();
    peer?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a receipt in the same TCP segment as its submit_sm_resp still settles the command', async () => {
  let peer: Socket | undefined;
  const server = createServer((socket) => {
    peer = socket;
    const reader = new PduReader();
    socket.on('data', (chunk: Buffer) => {
      for (const pdu of reader.push(chunk)) {
        if (pdu.commandId === CMD.bind_transceiver) socket.write(encodePdu(CMD.bind_transceiver_resp, pdu.sequence, Buffer.from('RAW\u0000')));
        if (pdu.commandId !== CMD.submit_sm) continue;
        // An SMSC that delivers at once may write both PDUs back to back; the receipt is read first by nothing but the order of bytes.
        const receipt = encodeSm({ source: { ton: 1, npi: 1, addr: '491700000002' }, destination: { ton: 1, npi: 1, addr: '491700000000' }, esmClass: 0x04, registeredDelivery: 0, dataCoding: 0, shortMessage: Buffer.from('id:X1 sub:001 dlvrd:001 submit date:2611220630 done date:2611220630 stat:DELIVRD err:000 text:') });
        socket.write(Buffer.concat([encodePdu(CMD.submit_sm_resp, pdu.sequence, Buffer.from('X1\u0000')), encodePdu(CMD.deliver_sm, 99, receipt)]));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { SmsConnector } = await import('../../src/edge/connectors/sms/index.js');
  const config = parseEdgeConfig(
    `
connectors:
  - type: sms
    transport: smpp
    smpp: { host: 127.0.0.1, port: ${(server.address() as { port: number }).port}, systemId: e, reconnect: { minMs: 50, maxMs: 100 } }
    devices:
      - { name: ctl, number: "+491700000002", commands: [{ method: go, text: "GO" }] }
    reportTimeoutMs: 5000
`,
    {},
    { offline: true },
  );
  const c = config.connectors[0];
  assert.ok(c?.type === 'sms');
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const connector = new SmsConnector(c, quiet);
  try {
    await connector.start({ reading: () => undefined });
    const reply = (await connector.handleCommand('ctl', 'go', {})) as Record<string, unknown>;
    assert.equal(reply.delivered, true);
    assert.equal(reply.messageId, 'X1');
  } finally {
    await connector.stop();
    peer?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a modem that is not there: the connector starts anyway, reports why, and keeps retrying', async () => {
  const { SmsConnector } = await import('../../src/edge/connectors/sms/index.js');
  const config = parseEdgeConfig(
    `
connectors:
  - type: sms
    transport: modem
    modem: { path: /nonexistent/ttyUSB9, reconnect: { minMs: 50, maxMs: 100 } }
    devices: [{ name: p, number: "+491700000001", commands: [{ method: go, text: GO }] }]
`,
    {},
    { offline: true },
  );
  const c = config.connectors[0];
  assert.ok(c?.type === 'sms');
  const warnings: string[] = [];
  const connector = new SmsConnector(c, { debug() {}, info() {}, error() {}, warn: (o: object, m?: string) => void warnings.push(`${m} ${JSON.stringify(o)}`) });
  try {
    await connector.start({ reading: () => undefined });
    assert.equal(connector.status().connected, false);
    assert.match(connector.status().lastError ?? '', /nonexistent|No such file/);
    assert.match(warnings.join('\n'), /GSM modem lost/);
    await assert.rejects(connector.handleCommand('p', 'go', {}), /not sent: modem \/nonexistent\/ttyUSB9 not ready/);
  } finally {
    await connector.stop();
  }
});
