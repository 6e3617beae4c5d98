/**
 * SMS through a GSM modem on a serial port, in text mode (3GPP TS 27.005). Start-up: AT until it
 * answers, ATE0 (no echo, V.250), PIN if asked (TS 27.007 §8.3 +CPIN), AT+CMGF=1 (text mode,
 * §3.2.3), AT+CSMP=49,167,0,0 (first octet with TP-SRR: ask for status reports, §3.3.2),
 * AT+CNMI=2,1,0,1,0 (new messages indicated as +CMTI with their storage index, status reports
 * routed as +CDS, §3.4.1), then AT+CMGL="ALL" (§3.4.2) for what arrived while we were away.
 * Each received message is read with AT+CMGR (§3.4.3) and deleted with AT+CMGD (§3.5.4) so the
 * SIM never fills up. Sending is AT+CMGS="<da>", the text after the "> " prompt, Ctrl-Z
 * (§3.5.1); the answer +CMGS: <mr> is the reference a later +CDS reports on.
 *
 * Commands go one at a time (a modem has one command line); unsolicited +CMTI/+CDS may arrive
 * between any two lines and are handled on their own.
 */
import { SerialPort } from 'serialport';
import type { EdgeLogger } from '../../ports.js';
import { CTRL_Z, finalResult, resultCode, tpStatus } from '../../../protocols/at/result-codes.js';
import type { SmsModemConfig } from './config.js';
import type { SmsTransport, TransportEvents } from './transport.js';

interface Exchange {
  readonly command: string;
  readonly lines: string[];
  /** Text to send after the "> " prompt (AT+CMGS); cleared once sent, so a second prompt sends nothing. */
  body?: string;
  resolve(lines: string[]): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  /** The next line is message text (after a +CMGR/+CMGL header), whatever it looks like. */
  textNext: boolean;
}

export class ModemTransport implements SmsTransport {
  private port: SerialPort | undefined;
  private ready = false;
  private stopped = true;
  private events: TransportEvents | undefined;
  private partial = '';
  private current: Exchange | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private attempt = 0;
  private timeouts = 0;
  private lastError = '';

  constructor(
    private readonly config: SmsModemConfig,
    private readonly logger: EdgeLogger,
    private readonly name: string,
  ) {}

  get connected(): boolean {
    return this.ready;
  }

  async start(events: TransportEvents): Promise<void> {
    this.events = events;
    this.stopped = false;
    await this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.keepalive);
    this.ready = false;
    this.current?.reject(new Error('stopped'));
    await this.closePort();
  }

  async send(to: string, text: string): Promise<{ messageId: string }> {
    if (!this.ready) throw new Error(`modem ${this.config.path} not ready${this.lastError ? ` (${this.lastError})` : ''}`);
    if (!/^\+?\d{3,20}$/.test(to)) throw new Error(`SMS recipient "${to}" is not a phone number`);
    // TS 27.005 §3.5.1 text mode: the text is sent after the prompt and ended by Ctrl-Z; a Ctrl-Z or ESC inside would end or cancel it.
    const clean = text.replace(/[\x1a\x1b]/g, ' ');
    const lines = await this.exec(`AT+CMGS="${to}"`, clean);
    const mr = lines.map(resultCode).find((r) => r?.name === '+CMGS')?.params[0];
    if (mr === undefined) throw new Error('modem accepted AT+CMGS without a message reference');
    return { messageId: mr };
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const port = new SerialPort({ path: this.config.path, baudRate: this.config.baudRate, autoOpen: false });
    this.port = port;
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      port.on('data', (chunk: Buffer) => this.onData(chunk));
      port.on('close', () => this.lost(port, 'serial port closed'));
      port.on('error', (err) => (this.lastError = err.message));
      await this.init();
      this.ready = true;
      this.attempt = 0;
      this.lastError = '';
      this.logger.info({ connector: this.name, path: this.config.path }, 'GSM modem ready');
      this.events?.link(true);
      void this.readStored();
      if (this.config.keepaliveMs > 0) {
        clearInterval(this.keepalive);
        this.keepalive = setInterval(() => {
          if (this.ready && !this.current) this.exec('AT').catch(() => undefined);
        }, this.config.keepaliveMs);
        this.keepalive.unref();
      }
    } catch (err) {
      this.lost(port, (err as Error).message);
    }
  }

  private async init(): Promise<void> {
    // The first AT may meet a modem still booting or mid-command: a few tries before giving up.
    let answered = false;
    for (let i = 0; i < 3 && !answered; i++) answered = await this.exec('AT').then(() => true, () => false);
    if (!answered) throw new Error('modem does not answer AT');
    await this.exec('ATE0');
    const pin = await this.exec('AT+CPIN?').catch(() => [] as string[]);
    if (pin.some((l) => /SIM PIN/.test(l))) {
      if (!this.config.pin) throw new Error('the SIM asks for a PIN and modem.pin is not set');
      await this.exec(`AT+CPIN="${this.config.pin}"`);
    }
    await this.exec('AT+CMGF=1');
    await this.exec('AT+CSMP=49,167,0,0');
    await this.exec('AT+CNMI=2,1,0,1,0');
  }

  /** Messages stored before we listened: read them like new ones. */
  private async readStored(): Promise<void> {
    try {
      const lines = await this.exec('AT+CMGL="ALL"');
      const indexes = lines.map(resultCode).filter((r) => r?.name === '+CMGL').map((r) => Number(r?.params[0]));
      for (const index of indexes) await this.readMessage(index);
    } catch (err) {
      this.logger.warn({ connector: this.name, err: (err as Error).message }, 'listing stored SMS failed');
    }
  }

  private async readMessage(index: number): Promise<void> {
    try {
      const lines = await this.exec(`AT+CMGR=${index}`);
      const at = lines.findIndex((l) => l.startsWith('+CMGR:'));
      const header = at < 0 ? undefined : resultCode(lines[at] as string);
      if (header) {
        // Text-mode +CMGR: <stat>,<oa>,[<alpha>],<scts> then the text (§3.4.3); status reports (+CMGR: <stat>,<fo>,<mr>…) have no text.
        const from = header.params[1] ?? '';
        if (from.length > 0) this.events?.sms({ from, to: '', text: lines.slice(at + 1).join('\n') });
      }
      await this.exec(`AT+CMGD=${index}`);
    } catch (err) {
      this.logger.warn({ connector: this.name, index, err: (err as Error).message }, 'reading SMS from the modem failed');
    }
  }

  private onData(chunk: Buffer): void {
    this.partial += chunk.toString('utf8');
    // The "> " prompt of AT+CMGS has no line end (§3.5.1).
    const ex = this.current;
    if (ex?.body !== undefined && this.partial.endsWith('> ')) {
      this.partial = '';
      this.port?.write(ex.body + CTRL_Z);
      ex.body = undefined;
      return;
    }
    const parts = this.partial.split(/\r\n|\r|\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) if (line.length > 0) this.onLine(line);
  }

  private onLine(line: string): void {
    const ex = this.current;
    if (ex?.textNext) {
      ex.textNext = false;
      ex.lines.push(line);
      return;
    }
    const code = resultCode(line);
    if (code?.name === '+CMTI') {
      // +CMTI: <mem>,<index>
      void this.enqueueRead(Number(code.params[1]));
      return;
    }
    if (code?.name === '+CDS') {
      this.statusReport(code.params);
      return;
    }
    if (!ex || line === ex.command) return; // echo before ATE0, or noise between commands
    const final = finalResult(line);
    if (final) {
      this.current = undefined;
      clearTimeout(ex.timer);
      if (final.ok) ex.resolve(ex.lines);
      else ex.reject(new Error(`${ex.command}: ${final.error}`));
      return;
    }
    ex.lines.push(line);
    if (code?.name === '+CMGR' || code?.name === '+CMGL') ex.textNext = true;
  }

  /** Text-mode +CDS: <fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st> (§3.4.1). */
  private statusReport(params: string[]): void {
    const mr = params[1];
    const st = Number(params[params.length - 1]);
    if (mr === undefined || !Number.isInteger(st)) {
      this.logger.warn({ connector: this.name, params }, 'unreadable +CDS status report');
      return;
    }
    const outcome = tpStatus(st);
    if (outcome === 'pending') return;
    this.events?.report({ messageId: mr, delivered: outcome === 'delivered', state: String(st) });
  }

  private enqueueRead(index: number): Promise<void> {
    if (!Number.isInteger(index)) return Promise.resolve();
    return this.readMessage(index);
  }

  /** Runs one command after the previous one; resolves with its intermediate lines. */
  private exec(command: string, body?: string): Promise<string[]> {
    const run = (): Promise<string[]> =>
      new Promise<string[]>((resolve, reject) => {
        const port = this.port;
        if (!port?.isOpen) return reject(new Error('serial port not open'));
        const ex: Exchange = { command, lines: [], resolve, reject, textNext: false, ...(body !== undefined ? { body } : {}) };
        ex.timer = setTimeout(() => {
          if (this.current === ex) this.current = undefined;
          // Three silent commands in a row: the modem is gone or wedged; reopen the port.
          if (++this.timeouts >= 3 && this.port) this.lost(this.port, 'modem stopped answering');
          reject(new Error(`${command}: no answer within ${this.config.commandTimeoutMs} ms`));
        }, this.config.commandTimeoutMs);
        this.current = ex;
        port.write(`${command}\r`);
      }).then((lines) => {
        this.timeouts = 0;
        return lines;
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private lost(port: SerialPort, reason: string): void {
    if (port !== this.port) return;
    const wasReady = this.ready;
    this.ready = false;
    this.lastError = reason;
    clearInterval(this.keepalive);
    this.current?.reject(new Error(reason));
    this.current = undefined;
    void this.closePort();
    if (this.stopped || this.retry) return;
    const base = Math.min(this.config.reconnect.maxMs, this.config.reconnect.minMs * 2 ** this.attempt++);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    if (wasReady || this.attempt === 1) this.logger.warn({ connector: this.name, path: this.config.path, reason, retryInMs: delay }, 'GSM modem lost');
    this.events?.link(false, reason);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.open();
    }, delay);
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.partial = '';
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
