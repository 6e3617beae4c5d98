/**
 * The edge's SMS connector against an SMSC we did not write (the `smpp` npm package's server),
 * with no platform at all (--offline): deliver_sm `PUMP ON` from the whitelisted number writes a
 * coil of the pymodbus PLC, one from another number is rejected and logged, and an SMS command
 * asks for a receipt (registered_delivery) that the SMSC sends as deliver_sm with esm_class 0x04.
 * Last, the shared test SMSC (test/support/smsc.ts, same package) for outbound texts and rebinds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import smpp, { type PDU, type Server, type Session } from 'smpp';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { SmsConnectorStatus } from '../../src/edge/connectors/sms/index.js';
import { eventually, tempDir } from '../support/platform.js';
import { readCoil, startPlc, type Plc } from './support.js';

interface SmppSession extends Session {
  deliver_sm(options: Record<string, unknown>, onResponse?: (pdu: PDU) => void): boolean;
}

let plc: Plc;
let edge: Edge;
let server: Server;
let esme: SmppSession | undefined;
const submits: PDU[] = [];
const logs: { msg?: string; obj: Record<string, unknown> }[] = [];
const logger = { debug() {}, info() {}, error() {}, warn: (obj: Record<string, unknown>, msg?: string) => void logs.push({ obj, ...(msg !== undefined ? { msg } : {}) }) };
let nextId = 100;

/** deliver_sm from a phone, as that package encodes it; resolves with our deliver_sm_resp. */
function mobileOriginated(from: string, text: string): Promise<PDU> {
  assert.ok(esme, 'edge bound');
  return new Promise((resolve) => esme?.deliver_sm({ source_addr: from.replace('+', ''), source_addr_ton: 1, source_addr_npi: 1, destination_addr: '491700000000', dest_addr_ton: 1, short_message: text }, resolve));
}

before(async () => {
  plc = await startPlc();
  server = smpp.createServer({}, (session) => {
    const s = session as SmppSession;
    session.on('error', () => undefined);
    session.on('bind_transceiver', (pdu: PDU) => {
      const ok = pdu.system_id === 'edge-1' && pdu.password === 'secret';
      session.send(pdu.response(ok ? { system_id: 'NODESMPP' } : { command_status: 0x0e }));
      if (ok) esme = s;
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: PDU) => {
      submits.push(pdu);
      const id = `N${nextId++}`;
      session.send(pdu.response({ message_id: id }));
      // Appendix B receipt text, as an SMSC without TLV support sends it.
      if (Number(pdu.registered_delivery) & 1) {
        setImmediate(() =>
          s.deliver_sm({
            source_addr: pdu.destination_addr,
            source_addr_ton: 1,
            destination_addr: pdu.source_addr,
            esm_class: 0x04,
            short_message: `id:${id} sub:001 dlvrd:001 submit date:2611220630 done date:2611220630 stat:DELIVRD err:000 text:x`,
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const smscPort = (server.address() as { port: number }).port;
  const yaml = `
connectors:
  - type: modbus-tcp
    host: 127.0.0.1
    port: ${plc.port}
    devices:
      - name: pump-1
        registers: [{ key: pumpOn, fc: 1, address: 1, type: bool }]
        commands: [{ method: setPump, fc: 5, address: 1, type: bool }]
  - type: sms
    transport: smpp
    smpp: { host: 127.0.0.1, port: ${smscPort}, systemId: edge-1, password: secret, sourceAddr: "+491700000000" }
    devices:
      - { name: farmer-phone, number: "+491700000001" }
      - name: pump-ctl-1
        number: "+491700000002"
        commands: [{ method: setPump, text: "PUMP {on}", map: { "true": "ON", "false": "OFF" } }]
    patterns:
      - { match: '^PUMP (ON|OFF)$', command: { device: pump-1, method: setPump, params: { value: "$1" } }, map: { "ON": true, "OFF": false } }
`;
  const config = parseEdgeConfig(yaml, {}, { offline: true });
  edge = await startEdge({ config, dataDir: tempDir(), offline: true, logger });
});

after(async () => {
  await edge?.stop();
  await new Promise<void>((resolve) => {
    esme?.destroy();
    server?.close(() => resolve());
  });
  await plc?.stop();
});

const status = (): SmsConnectorStatus => edge.connectors.find((c) => c.name === 'sms')?.status() as SmsConnectorStatus;

test('deliver_sm PUMP ON from the whitelisted number writes the coil; deliver_sm_resp is OK', async () => {
  await eventually(async () => (esme && status().connected ? true : undefined), 10_000, 'edge bound to the smpp package SMSC');
  assert.equal(await readCoil(plc.port, 1), 0);
  const resp = await mobileOriginated('+491700000001', 'PUMP ON');
  assert.equal(resp.command_status, 0);
  await eventually(async () => ((await readCoil(plc.port, 1)) === 1 ? true : undefined), 10_000, 'coil 1 on');
});

test('the same text from another number is rejected and logged; the coil stays', async () => {
  await mobileOriginated('+491700000001', 'PUMP OFF');
  await eventually(async () => ((await readCoil(plc.port, 1)) === 0 ? true : undefined), 10_000, 'coil 1 off');
  const resp = await mobileOriginated('+447700900123', 'PUMP ON');
  assert.equal(resp.command_status, 0, 'accepted by the SMPP layer: refusing would make the SMSC retry');
  const line = await eventually(async () => logs.find((l) => l.msg === 'SMS rejected'), 5000, 'rejection logged');
  assert.equal(line.obj.from, '+447700900123');
  assert.equal(line.obj.text, 'PUMP ON');
  assert.equal(status().rejected, 1);
  assert.equal(await readCoil(plc.port, 1), 0);
});

test('an SMS command asks for a receipt; the Appendix B receipt text settles it', async () => {
  const sms = edge.connectors.find((c) => c.name === 'sms');
  assert.ok(sms);
  const reply = (await sms.handleCommand('pump-ctl-1', 'setPump', { on: true })) as Record<string, unknown>;
  assert.equal(reply.delivered, true);
  assert.equal(reply.state, 'DELIVRD');
  const pdu = submits.at(-1);
  assert.ok(pdu);
  assert.equal(pdu.destination_addr, '491700000002');
  assert.equal(pdu.dest_addr_ton, 1);
  assert.equal(pdu.source_addr, '491700000000');
  assert.equal(Number(pdu.registered_delivery) & 1, 1);
  assert.equal((pdu.short_message as { message: string }).message, 'PUMP ON');
  assert.equal(reply.messageId, `N${nextId - 1}`);
  await assert.rejects(sms.handleCommand('pump-ctl-1', 'setPump', {}), /params need "on"/);
  await assert.rejects(sms.handleCommand('pump-ctl-1', 'reboot', {}), /no command "reboot"/);
});

test('against test/support/smsc.ts: command texts arrive as that package decodes them, and the edge rebinds after the SMSC drops it', async () => {
  const { startSmsc } = await import('../support/smsc.js');
  const { SmsConnector } = await import('../../src/edge/connectors/sms/index.js');
  const other = await startSmsc({ systemId: 'edge-2', password: 'pw' });
  const config = parseEdgeConfig(
    `
connectors:
  - type: sms
    transport: smpp
    smpp: { host: 127.0.0.1, port: ${other.port}, systemId: edge-2, password: pw, sourceAddr: "+491700000000", reconnect: { minMs: 50, maxMs: 200 } }
    devices:
      - name: display-1
        number: "+491700000003"
        commands: [{ method: show, text: "{}" }]
    reportTimeoutMs: 200
`,
    {},
    { offline: true },
  );
  const c = config.connectors[0];
  assert.ok(c?.type === 'sms');
  const connector = new SmsConnector(c, logger);
  try {
    await connector.start({ reading: () => undefined });
    assert.equal(connector.status().connected, true);
    // No receipt from this SMSC: the command is answered without one once reportTimeoutMs passed.
    const reply = (await connector.handleCommand('display-1', 'show', 'Grüße €5 – ok')) as Record<string, unknown>;
    assert.equal(reply.delivered, null);
    const got = other.received.at(-1);
    assert.equal(got?.text, 'Grüße €5 – ok');
    assert.equal(got?.dataCoding, 8, 'UCS2: "–" has no GSM 03.38 code');
    assert.equal(got?.destination, '491700000003');
    assert.equal(got?.destinationTon, 1);
    assert.equal(got?.systemId, 'edge-2');

    const binds = other.binds.length;
    other.dropAll();
    // The rebind may be quicker than any poll of `connected`: count the SMSC's binds instead.
    await eventually(async () => (other.binds.length > binds && connector.status().connected ? true : undefined), 10_000, 'rebound');
    await connector.handleCommand('display-1', 'show', 'again');
    assert.equal(other.received.at(-1)?.text, 'again');
  } finally {
    await connector.stop();
    await other.close();
  }
});
