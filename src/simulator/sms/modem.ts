/**
 * A GSM modem emulator on a serial line (a pty end in tests): the AT subset of 3GPP TS 27.005
 * text mode that the edge's modem transport uses, with its SIM attached to the simulated SMSC as
 * a subscriber. Texts to the SIM's number are stored and indicated with +CMTI (§3.4.1); AT+CMGS
 * (§3.5.1) sends through the SMSC, and when the first octet set by AT+CSMP asks for a status
 * report (TP-SRR, 0x20) and AT+CNMI ds=1, the outcome comes back as +CDS.
 * Answers use V.250 verbose framing: <CR><LF>text<CR><LF>.
 */
import { SerialPort } from 'serialport';
import { CTRL_Z, ESC, splitParams } from '../../protocols/at/result-codes.js';
import type { SimLogger, SmscSimulator, Subscriber } from './smsc.js';

export interface ModemEmulatorOptions {
  /** The emulator's end of the serial line. */
  readonly path: string;
  readonly smsc: SmscSimulator;
  /** The SIM's number. */
  readonly number: string;
  /** When set, the SIM starts locked: +CPIN: SIM PIN until AT+CPIN="<pin>". */
  readonly pin?: string;
  /** Message slots on the SIM (default 30). */
  readonly slots?: number;
  readonly logger?: SimLogger;
}

export interface ModemEmulator {
  readonly subscriber: Subscriber;
  /** Every command line received, in order (tests read the init sequence from it). */
  readonly commands: readonly string[];
  /** Messages on the SIM now, by index. */
  readonly stored: ReadonlyMap<number, { readonly from: string; readonly text: string }>;
  close(): Promise<void>;
}

interface Slot {
  from: string;
  text: string;
  read: boolean;
  scts: string;
}

/** Service centre time stamp as text mode shows it: "yy/MM/dd,hh:mm:ss+zz" (quarter hours, UTC here). */
function scts(ms = Date.now()): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCFullYear() % 100)}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())},${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}+00`;
}

/** Type of address: 145 international (with "+"), 129 unknown (TS 24.008 §10.5.4.7). */
const toa = (n: string): number => (n.startsWith('+') ? 145 : 129);

export async function startModemEmulator(options: ModemEmulatorOptions): Promise<ModemEmulator> {
  const log = options.logger ?? { info() {}, warn() {} };
  const port = new SerialPort({ path: options.path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const commands: string[] = [];
  const slots = new Map<number, Slot>();
  const state = { echo: true, textMode: false, locked: options.pin !== undefined, fo: 17, mt: 0, ds: 0, mr: 0 };
  let line = '';
  /** Destination while the "> " prompt of AT+CMGS is collecting text. */
  let composing: string | undefined;

  const out = (text: string): void => void port.write(`\r\n${text}\r\n`);
  const cmsError = (code: number): void => out(`+CMS ERROR: ${code}`);

  const subscriber = options.smsc.handset(options.number, (text, from) => {
    const max = options.slots ?? 30;
    let index = 1;
    while (slots.has(index) && index <= max) index++;
    // A full SIM loses the text, as a real one would refuse it (memory capacity exceeded).
    if (index > max) return log.warn({ number: options.number, from }, 'modem emulator: SIM full, SMS lost');
    slots.set(index, { from, text, read: false, scts: scts() });
    if (state.mt === 1 || state.mt === 2) out(`+CMTI: "SM",${index}`);
  });

  const listEntry = (index: number, slot: Slot, prefix: string): string => `${prefix}${index},"${slot.read ? 'REC READ' : 'REC UNREAD'}","${slot.from}",,"${slot.scts}"\r\n${slot.text}`;

  const sendText = (to: string, text: string): void => {
    state.mr = (state.mr + 1) & 0xff;
    const mr = state.mr;
    const wantsReport = (state.fo & 0x20) !== 0 && state.ds === 1;
    subscriber.send(to, text, (delivered) => {
      // +CDS text mode: <fo>,<mr>,<ra>,<tora>,<scts>,<dt>,<st>; st 0 received by the SME, 0x41 incompatible destination (TS 23.040 §9.2.3.15).
      if (wantsReport) out(`+CDS: 6,${mr},"${to}",${toa(to)},"${scts()}","${scts()}",${delivered ? 0 : 65}`);
    });
    out(`+CMGS: ${mr}`);
    out('OK');
  };

  const smsCommand = (name: string, arg: string): void => {
    if (!state.textMode) return cmsError(303); // PDU mode: operation not supported here
    const index = Number(arg);
    switch (name) {
      case '+CMGS': {
        const [to] = splitParams(arg);
        if (!to || !/^\+?\d{3,20}$/.test(to)) return cmsError(304);
        composing = to;
        void port.write('\r\n> ');
        return;
      }
      case '+CMGR': {
        const slot = slots.get(index);
        if (!slot) return cmsError(321); // invalid memory index
        out(listEntry(index, slot, '+CMGR: ').replace(/^\+CMGR: \d+,/, '+CMGR: '));
        slot.read = true;
        return out('OK');
      }
      case '+CMGD':
        slots.delete(index);
        return out('OK');
      case '+CMGL': {
        const [which] = splitParams(arg);
        for (const [i, slot] of [...slots].sort((a, b) => a[0] - b[0])) {
          if (which === 'ALL' || (which === 'REC UNREAD' && !slot.read) || (which === 'REC READ' && slot.read)) {
            out(listEntry(i, slot, '+CMGL: '));
            slot.read = true;
          }
        }
        return out('OK');
      }
    }
  };

  const command = (cmd: string): void => {
    commands.push(cmd);
    const upper = cmd.toUpperCase();
    if (upper === 'AT') return out('OK');
    if (upper === 'ATE0' || upper === 'ATE1') {
      state.echo = upper === 'ATE1';
      return out('OK');
    }
    const m = /^AT(\+[A-Z]+)(\?|=\?|=(.*))?$/i.exec(cmd);
    if (!m) return out('ERROR');
    const name = (m[1] as string).toUpperCase();
    const arg = m[3] ?? '';
    if (name === '+CPIN') {
      if (m[2] === '?') return out(`+CPIN: ${state.locked ? 'SIM PIN' : 'READY'}`), out('OK');
      if (splitParams(arg)[0] !== options.pin) return out('+CME ERROR: 16'); // incorrect password (TS 27.007 §9.2.1)
      state.locked = false;
      return out('OK');
    }
    if (state.locked) return out('+CME ERROR: 11'); // SIM PIN required
    switch (name) {
      case '+CMGF':
        if (m[2] === '?') return out(`+CMGF: ${state.textMode ? 1 : 0}`), out('OK');
        state.textMode = arg === '1';
        return out('OK');
      case '+CSMP':
        state.fo = Number(splitParams(arg)[0] ?? 17);
        return out('OK');
      case '+CNMI': {
        const [, mt, , ds] = splitParams(arg).map(Number);
        state.mt = mt ?? 0;
        state.ds = ds ?? 0;
        return out('OK');
      }
      case '+CSCS':
      case '+CMEE':
        return out('OK');
      case '+CMGS':
      case '+CMGR':
      case '+CMGD':
      case '+CMGL':
        return smsCommand(name, arg);
      default:
        return out('ERROR');
    }
  };

  port.on('data', (chunk: Buffer) => {
    for (const ch of chunk.toString('utf8')) {
      if (composing !== undefined) {
        if (ch === CTRL_Z) {
          const to = composing;
          composing = undefined;
          sendText(to, line);
          line = '';
        } else if (ch === ESC) {
          composing = undefined;
          line = '';
          out('OK'); // cancelled, nothing sent (TS 27.005 §3.5.1)
        } else line += ch;
        continue;
      }
      if (state.echo) void port.write(ch);
      if (ch === '\r' || ch === '\n') {
        const cmd = line.trim();
        line = '';
        if (cmd.length > 0) command(cmd);
      } else line += ch;
    }
  });
  port.on('error', (err) => log.warn({ path: options.path, err: err.message }, 'modem emulator: serial error'));

  return {
    subscriber,
    commands,
    get stored() {
      return new Map([...slots].map(([i, s]) => [i, { from: s.from, text: s.text }] as const));
    },
    async close() {
      subscriber.close();
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}
