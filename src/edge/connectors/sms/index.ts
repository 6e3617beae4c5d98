/**
 * SMS connector: SIMs on a whitelist are child devices of the edge. An inbound text from a
 * whitelisted number is matched against the configured patterns and becomes telemetry of the
 * sender's device or a command to any device of this edge (routed locally through the sink, so
 * `PUMP ON` switches a Modbus coil with or without the platform); the text and the outcome are
 * reported as the sender's telemetry. Anything else (unknown number, no pattern) is rejected:
 * logged with number and text, counted, optionally answered, never acted on. Platform commands
 * to a SIM's device become texts from a template; the delivery report settles the command reply.
 */
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Connector, ConnectorStatus, EdgeLogger, ReadingSink } from '../../ports.js';
import type { SmsConnectorConfig, SmsDeviceConfig } from './config.js';
import { ModemTransport } from './modem-transport.js';
import { PatternSet, renderText, type Decision } from './patterns.js';
import { SmppTransport } from './smpp-transport.js';
import type { DeliveryReport, InboundSms, SmsTransport } from './transport.js';

export interface SmsConnectorStatus extends ConnectorStatus {
  readonly received: number;
  readonly rejected: number;
  readonly sent: number;
  readonly delivered: number;
  readonly undelivered: number;
  /** The last rejected SMS, for the operator: number, text, why. */
  readonly lastRejected?: { readonly from: string; readonly text: string; readonly reason: string };
}

const EARLY_REPORT_MS = 5000;

interface AwaitedReport {
  resolve(report: DeliveryReport): void;
  timer?: NodeJS.Timeout;
}

export class SmsConnector implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  private readonly patterns: PatternSet;
  private readonly transport: SmsTransport;
  private sink: ReadingSink | undefined;
  private readonly lastTs = new Map<string, number>();
  private readonly awaited = new Map<string, AwaitedReport>();
  /**
   * Reports nobody awaited yet: one may come before its submit's answer was handled (same TCP
   * segment). Kept briefly only: ids repeat (a modem's reference wraps at 256) and texts sent
   * without waiting (replies) get reports too.
   */
  private readonly early = new Map<string, { report: DeliveryReport; at: number }>();
  private counters = { received: 0, rejected: 0, sent: 0, delivered: 0, undelivered: 0, errors: 0 };
  private lastError: string | undefined;
  private lastRejected: SmsConnectorStatus['lastRejected'];

  constructor(
    private readonly config: SmsConnectorConfig,
    private readonly logger: EdgeLogger,
    transport?: SmsTransport,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    this.patterns = new PatternSet(config);
    this.transport = transport ?? createTransport(config, logger);
  }

  async start(sink: ReadingSink): Promise<void> {
    this.sink = sink;
    await this.transport.start({
      // Never an unhandled rejection: a failing sink (buffer full, disk error) is counted and logged.
      sms: (m) => void this.inbound(m).catch((err: unknown) => this.noteError(err, { from: m.from, text: m.text })),
      report: (r) => this.report(r),
      link: (up, reason) => {
        if (!up && reason) this.lastError = reason;
      },
    });
  }

  async stop(): Promise<void> {
    for (const [id, w] of this.awaited) {
      clearTimeout(w.timer);
      w.resolve({ messageId: id, delivered: false, state: 'STOPPED' });
    }
    this.awaited.clear();
    await this.transport.stop();
  }

  status(): SmsConnectorStatus {
    return {
      name: this.name,
      connected: this.transport.connected,
      errors: this.counters.errors,
      polls: this.counters.received,
      received: this.counters.received,
      rejected: this.counters.rejected,
      sent: this.counters.sent,
      delivered: this.counters.delivered,
      undelivered: this.counters.undelivered,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.lastRejected ? { lastRejected: this.lastRejected } : {}),
    };
  }

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const sender = this.config.devices.find((d) => d.name === device);
    if (!sender) throw new Error(`unknown device "${device}"`);
    const command = sender.commands.find((c) => c.method === method);
    if (!command) throw new Error(`device "${device}" has no command "${method}" (${sender.commands.map((c) => c.method).join(', ') || 'none configured'})`);
    const text = renderText(command.text, params, command.map);
    const wantReport = this.config.reportTimeoutMs > 0;
    let messageId: string;
    try {
      ({ messageId } = await this.transport.send(sender.number, text, wantReport));
    } catch (err) {
      this.noteError(err, { device, method });
      throw new Error(`SMS to ${device} not sent: ${(err as Error).message}`);
    }
    this.counters.sent++;
    this.logger.info({ connector: this.name, device, to: sender.number, method, text, messageId }, 'SMS command sent');
    if (!wantReport) return { ok: true, text, messageId };
    const report = await this.awaitReport(messageId);
    this.emit(device, report.state === 'TIMEOUT' ? { smsSent: text } : { smsSent: text, smsDelivered: report.delivered });
    if (report.state === 'TIMEOUT') return { ok: true, text, messageId, delivered: null, note: `no delivery report within ${this.config.reportTimeoutMs} ms` };
    if (!report.delivered) throw new Error(`SMS to ${device} not delivered (${report.state})`);
    return { ok: true, text, messageId, delivered: true, state: report.state };
  }

  /** A local rule's notification (`sms` action): the text as given, to the device's number; no delivery report awaited. */
  async sendText(device: string, text: string): Promise<JsonValue> {
    const target = this.config.devices.find((d) => d.name === device);
    if (!target) throw new Error(`unknown device "${device}"`);
    let messageId: string;
    try {
      ({ messageId } = await this.transport.send(target.number, text, false));
    } catch (err) {
      this.noteError(err, { device, method: 'sms' });
      throw new Error(`SMS to ${device} not sent: ${(err as Error).message}`);
    }
    this.counters.sent++;
    this.logger.info({ connector: this.name, device, to: target.number, text, messageId }, 'SMS notification sent');
    return { ok: true, text, messageId };
  }

  private awaitReport(messageId: string): Promise<DeliveryReport> {
    const early = this.early.get(messageId);
    this.early.delete(messageId);
    if (early && Date.now() - early.at < EARLY_REPORT_MS) return Promise.resolve(early.report);
    return new Promise((resolve) => {
      const w: AwaitedReport = { resolve };
      w.timer = setTimeout(() => {
        this.awaited.delete(messageId);
        resolve({ messageId, delivered: false, state: 'TIMEOUT' });
      }, this.config.reportTimeoutMs);
      this.awaited.set(messageId, w);
    });
  }

  private report(r: DeliveryReport): void {
    if (r.delivered) this.counters.delivered++;
    else this.counters.undelivered++;
    const w = this.awaited.get(r.messageId);
    this.logger.info({ connector: this.name, messageId: r.messageId, delivered: r.delivered, state: r.state, awaited: w !== undefined }, 'SMS delivery report');
    if (!w) {
      this.early.set(r.messageId, { report: r, at: Date.now() });
      if (this.early.size > 100) this.early.delete(this.early.keys().next().value as string);
      return;
    }
    this.awaited.delete(r.messageId);
    clearTimeout(w.timer);
    w.resolve(r);
  }

  private async inbound(m: InboundSms): Promise<void> {
    this.counters.received++;
    const decision = this.patterns.decide(m.from, m.text);
    switch (decision.kind) {
      case 'rejected':
        return this.reject(m, decision);
      case 'telemetry':
        this.logger.info({ connector: this.name, from: m.from, device: decision.sender.name, text: m.text }, 'SMS telemetry');
        this.emit(decision.sender.name, { ...decision.values, sms: m.text });
        return this.answer(decision.sender, this.patterns.reply(decision.pattern, decision.groups, 'ok'));
      case 'command':
        return this.command(m, decision);
    }
  }

  private async command(m: InboundSms, d: Extract<Decision, { kind: 'command' }>): Promise<void> {
    const target = `${d.device}.${d.method}`;
    let result = 'ok';
    try {
      if (!this.sink?.command) throw new Error('this edge does not route commands between connectors');
      await this.sink.command(d.device, d.method, d.params);
      this.logger.info({ connector: this.name, from: m.from, sender: d.sender.name, text: m.text, command: target, params: d.params }, 'SMS command run');
    } catch (err) {
      result = (err as Error).message;
      this.noteError(err, { from: m.from, command: target });
    }
    this.emit(d.sender.name, { sms: m.text, smsCommand: target, smsCommandOk: result === 'ok', ...(result === 'ok' ? {} : { smsCommandError: result }) });
    await this.answer(d.sender, this.patterns.reply(d.pattern, d.groups, result));
  }

  private async reject(m: InboundSms, d: Extract<Decision, { kind: 'rejected' }>): Promise<void> {
    this.counters.rejected++;
    this.lastRejected = { from: m.from, text: m.text, reason: d.reason };
    this.logger.warn({ connector: this.name, from: m.from, text: m.text, reason: d.reason, device: d.sender?.name }, 'SMS rejected');
    // A known SIM still shows what it sent, marked as not acted on; a stranger has no device to show it on.
    if (d.sender) this.emit(d.sender.name, { sms: m.text, smsRejected: true });
    const reply = this.config.rejectReply;
    if (reply && (d.sender || this.config.replyToStrangers) && /^\+?\d{3,20}$/.test(m.from)) await this.sendQuietly(m.from, reply);
  }

  private async answer(sender: SmsDeviceConfig, text: string | undefined): Promise<void> {
    if (text !== undefined) await this.sendQuietly(sender.number, text);
  }

  private async sendQuietly(to: string, text: string): Promise<void> {
    try {
      await this.transport.send(to, text, false);
      this.counters.sent++;
    } catch (err) {
      this.noteError(err, { to, text });
    }
  }

  private emit(device: string, values: Record<string, JsonValue>): void {
    const ts = Math.max(Date.now(), (this.lastTs.get(device) ?? 0) + 1);
    this.lastTs.set(device, ts);
    this.sink?.reading({ device, ts, values });
  }

  private noteError(err: unknown, context: object): void {
    this.counters.errors++;
    this.lastError = (err as Error).message;
    this.logger.warn({ connector: this.name, ...context, err: this.lastError }, 'SMS action failed');
  }
}

function createTransport(config: SmsConnectorConfig, logger: EdgeLogger): SmsTransport {
  if (config.transport === 'smpp') {
    if (!config.smpp) throw new Error(`${config.name}: smpp settings missing`);
    return new SmppTransport(config.smpp, logger, config.name);
  }
  if (!config.modem) throw new Error(`${config.name}: modem settings missing`);
  return new ModemTransport(config.modem, logger, config.name);
}
