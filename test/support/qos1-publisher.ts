/**
 * Test support: a device that publishes a numbered series at QoS 1 and keeps books of what the
 * platform acknowledged, for the acked == stored checks of the cluster tests.
 *
 * Message `seq` of device `index` is `{ ts: baseTs + seq, values: { seq: value(index, seq) } }`:
 * its own timestamp, so a re-sent message lands on the same ts_kv row (the store's upsert) and
 * the stored count and sum per device are exactly those of the acknowledged set.
 *
 * When its connection breaks (its node was killed, or the server closed it) or no PUBACK comes
 * for `stallMs`, it connects to a node that is alive and re-sends every message not yet
 * acknowledged — what MQTT 3.1.1 §4.4 asks of a client after a reconnect, done here by the test
 * itself because a clean session on another server has no state to resume.
 */
import mqtt from 'mqtt';

export const SEQ_KEY = 'seq';

/** The value of message `seq` of device `index`: distinct per message, so the checksum sees a swap. */
export function seqValue(index: number, seq: number): number {
  return index * 1_000_000 + seq;
}

export interface Qos1PublisherOptions {
  readonly index: number;
  readonly token: string;
  readonly messages: number;
  /** PUBLISHes in flight at once. */
  readonly window: number;
  readonly baseTs: number;
  /** The first node's MQTT port. */
  readonly port: number;
  /** MQTT ports to move to after a failure (the nodes alive now). */
  readonly livePorts: () => number[];
  /** No PUBACK for this long with messages in flight: give up on the connection (default 15 s). */
  readonly stallMs?: number;
  /** More values in message `seq` beside its seq (a battery level for a rule, say). */
  readonly extra?: (seq: number) => Record<string, number>;
  /** Called after every PUBACK, with the total so far of this publisher. */
  readonly onAck?: () => void;
}

export class Qos1Publisher {
  readonly acked = new Set<number>();
  /** Sum of seqValue over acknowledged messages. */
  checksum = 0;
  /** Connections that broke and were replaced. */
  reconnects = 0;
  /** Every port this device was connected to, in order. */
  readonly ports: number[] = [];
  /** What broke each replaced connection. */
  readonly failures: string[] = [];
  private stopped = false;
  private client: mqtt.MqttClient | undefined;

  constructor(readonly options: Qos1PublisherOptions) {}

  get done(): boolean {
    return this.acked.size >= this.options.messages;
  }

  /** Resolves once every message is acknowledged (or stop() was called). */
  async run(): Promise<void> {
    let port = this.options.port;
    while (!this.done && !this.stopped) {
      try {
        await this.session(port);
      } catch (err) {
        if (this.stopped) break;
        this.reconnects++;
        this.failures.push((err as Error).message);
        const live = this.options.livePorts().filter((p) => p !== port);
        const choices = live.length > 0 ? live : this.options.livePorts();
        port = choices[(this.options.index + this.reconnects) % Math.max(1, choices.length)] ?? port;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.client?.end(true);
  }

  private record(seq: number): void {
    if (this.acked.has(seq)) return;
    this.acked.add(seq);
    this.checksum += seqValue(this.options.index, seq);
    this.options.onAck?.();
  }

  /** One connection: sends what is not acknowledged yet; resolves when all is, rejects when the connection fails. */
  private session(port: number): Promise<void> {
    const { index, token, messages, window, baseTs } = this.options;
    const stallMs = this.options.stallMs ?? 15_000;
    this.ports.push(port);
    const queue: number[] = [];
    for (let seq = 0; seq < messages; seq++) if (!this.acked.has(seq)) queue.push(seq);
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: token, reconnectPeriod: 0, connectTimeout: 10_000, clean: true, protocolVersion: 4 });
    this.client = client;
    return new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let settled = false;
      let lastProgress = Date.now();
      const watchdog = setInterval(() => {
        if (inFlight > 0 && Date.now() - lastProgress > stallMs) fail(new Error(`no PUBACK for ${stallMs} ms on port ${port}`));
      }, 500);
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        client.removeAllListeners('close');
        client.on('error', () => undefined);
        client.end(true);
        if (err) reject(err);
        else resolve();
      };
      const fail = (err: Error): void => finish(err);
      const pump = (): void => {
        while (!settled && inFlight < window && queue.length > 0) {
          const seq = queue.shift()!;
          inFlight++;
          const payload = JSON.stringify({ ts: baseTs + seq, values: { ...this.options.extra?.(seq), [SEQ_KEY]: seqValue(index, seq) } });
          client.publish('v1/devices/me/telemetry', payload, { qos: 1 }, (err) => {
            inFlight--;
            if (err) return; // the connection is going; the session fails on 'close'
            lastProgress = Date.now();
            this.record(seq);
            if (this.done || this.stopped) finish();
            else pump();
          });
        }
        if (!settled && inFlight === 0 && queue.length === 0) finish(this.done ? undefined : new Error('nothing left to send but not all acknowledged'));
      };
      client.once('connect', () => {
        lastProgress = Date.now();
        pump();
      });
      client.on('error', (err) => fail(err));
      client.on('close', () => fail(new Error(`connection to ${port} closed`)));
    });
  }
}

/** Per device id: count and sum of the stored `seq` points, read from the test database. */
export async function storedSeqs(sql: <T extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>): Promise<Map<string, { count: number; sum: number }>> {
  const rows = await sql<{ device_id: string; count: string; sum: number }>('SELECT device_id, count(*) AS count, sum(n) AS sum FROM ts_kv WHERE key = $1 GROUP BY device_id', [SEQ_KEY]);
  return new Map(rows.map((r) => [r.device_id, { count: Number(r.count), sum: Number(r.sum) }]));
}
