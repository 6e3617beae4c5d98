/**
 * An SMSC for tests, run with the `smpp` package's server (an SMPP implementation we did not
 * write): checks binds, records submit_sm (decoded by that package), answers enquire_link, and
 * can refuse submits or drop every connection.
 */
import smpp, { type PDU, type Session } from 'smpp';

export interface ReceivedSms {
  /** system_id the submitting session is bound as. */
  readonly systemId: string;
  readonly source: string;
  readonly sourceTon: number;
  readonly destination: string;
  readonly destinationTon: number;
  readonly dataCoding: number;
  readonly esmClass: number;
  /** Text as the `smpp` package decodes it (GSM 03.38 or UCS2), UDH removed. */
  readonly text: string;
  /** Concatenation UDH (reference, total, index) when present. */
  readonly udh?: readonly number[];
}

export interface TestSmsc {
  readonly port: number;
  readonly received: ReceivedSms[];
  /** system_id of every bind attempt, accepted or not. */
  readonly binds: string[];
  enquireLinks: number;
  /** command_status for the next submits (0 accepts). */
  submitStatus: number;
  /** Closes every ESME connection, as an SMSC restart would. */
  dropAll(): void;
  /** Sends an enquire_link to every bound ESME; resolves with the number of answers. */
  probe(): Promise<number>;
  close(): Promise<void>;
}

export async function startSmsc(opts: { systemId?: string; password?: string } = {}): Promise<TestSmsc> {
  /** Bound sessions → their system_id. */
  const sessions = new Map<Session, string>();
  const all = new Set<Session>();
  const smsc: Omit<TestSmsc, 'port'> & { port: number } = {
    port: 0,
    received: [],
    binds: [],
    enquireLinks: 0,
    submitStatus: 0,
    dropAll: () => all.forEach((s) => s.destroy()),
    probe: () => Promise.all([...sessions.keys()].map((s) => new Promise<number>((resolve) => s.enquire_link({}, (r) => resolve(r.command_status === 0 ? 1 : 0))))).then((n) => n.reduce((a, b) => a + b, 0)),
    close: () =>
      new Promise<void>((resolve) => {
        smsc.dropAll();
        server.close(() => resolve());
      }),
  };
  let nextId = 1;
  const server = smpp.createServer({}, (session) => {
    session.on('error', () => undefined);
    const bind = (pdu: PDU): void => {
      const systemId = String(pdu.system_id);
      smsc.binds.push(systemId);
      const ok = (opts.systemId === undefined || systemId === opts.systemId) && (opts.password === undefined || pdu.password === opts.password);
      session.send(pdu.response(ok ? { system_id: 'TESTSMSC' } : { command_status: 0x0e }));
      if (ok) sessions.set(session, systemId);
    };
    session.on('bind_transmitter', bind);
    session.on('bind_transceiver', bind);
    all.add(session);
    session.on('close', () => {
      sessions.delete(session);
      all.delete(session);
    });
    session.on('enquire_link', (pdu: PDU) => {
      smsc.enquireLinks++;
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: PDU) => {
      if (smsc.submitStatus !== 0) {
        session.send(pdu.response({ command_status: smsc.submitStatus }));
        return;
      }
      const sm = pdu.short_message as { message: string | Buffer; udh?: Buffer[] };
      const udh = sm.udh?.[0];
      smsc.received.push({
        systemId: sessions.get(session) ?? '(not bound)',
        source: String(pdu.source_addr),
        sourceTon: Number(pdu.source_addr_ton),
        destination: String(pdu.destination_addr),
        destinationTon: Number(pdu.dest_addr_ton),
        dataCoding: Number(pdu.data_coding),
        esmClass: Number(pdu.esm_class),
        text: typeof sm.message === 'string' ? sm.message : sm.message.toString('latin1'),
        ...(udh ? { udh: [...udh.subarray(2)] } : {}),
      });
      session.send(pdu.response({ message_id: `msg-${nextId++}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  smsc.port = typeof address === 'object' && address ? address.port : 0;
  return smsc;
}
