/**
 * Test support for the MQTT broker: a broker on 127.0.0.1 port 0, MQTT.js clients, and a raw
 * socket client (mqtt-packet encoder/parser) for checks a high-level client hides (DUP flags,
 * DISCONNECT reason codes, not acknowledging on purpose).
 */
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { generate, parser as createParser, type Packet } from 'mqtt-packet';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../../../src/ports.js';
import type { TransportMetrics } from '../../../../src/ports/device-api.js';
import { conformancePolicy } from '../../../../src/adapters/transport/mqtt/auth.js';
import { MqttBroker, type BrokerOptions } from '../../../../src/adapters/transport/mqtt/broker.js';
import { closeServer, listen } from '../../../../src/adapters/transport/mqtt/listeners.js';

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Counts every metric call as "<kind>:<transport>:<label>". */
export class CountingMetrics implements TransportMetrics {
  readonly counts = new Map<string, number>();
  private add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  messageIn(t: string, kind: string): void {
    this.add(`in:${t}:${kind}`);
  }
  messageOut(t: string, kind: string): void {
    this.add(`out:${t}:${kind}`);
  }
  reject(t: string, reason: string): void {
    this.add(`reject:${t}:${reason}`);
  }
  connections(t: string, delta: number): void {
    this.add(`connections:${t}`, delta);
  }
}

export interface TestBroker {
  readonly broker: MqttBroker;
  readonly port: number;
  readonly url: string;
  readonly metrics: CountingMetrics;
  close(): Promise<void>;
}

/** A broker with the conformance policy unless options say otherwise. */
export async function startBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const metrics = options.metrics instanceof CountingMetrics ? options.metrics : new CountingMetrics();
  const broker = new MqttBroker({ logger: silentLogger, policy: conformancePolicy(), ...options, metrics });
  const { server, address } = await listen(broker, { name: 'mqtt', host: '127.0.0.1', port: 0, flag: '--mqtt-port' });
  return {
    broker,
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    metrics,
    close: async () => {
      const closing = closeServer(server);
      await broker.close(1000);
      await closing;
    },
  };
}

/** MQTT.js client that never reconnects on its own. */
export function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options }, false);
}

/**
 * Connects and starts collecting before the CONNACK, for sessions whose queued messages arrive
 * right after it.
 */
export async function clientWithInbox(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; inbox: ReturnType<typeof collect>; sessionPresent: boolean }> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const inbox = collect(c);
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    c.once('connect', (connack) => resolve(connack.sessionPresent));
    c.once('error', reject);
  });
  return { client: c, inbox, sessionPresent };
}

/** SUBACK codes, whether MQTT.js resolves or (for failure codes) rejects the subscription. */
export function subackCodes(c: MqttClient, filters: string | string[], qos: 0 | 1 | 2 = 1): Promise<number[] | undefined> {
  return c.subscribeAsync(filters, { qos }).then(
    (granted) => granted.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
  );
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly packet: mqtt.IPublishPacket;
}

/** Collects messages; `next()` waits for the next one (or fails after `ms`). */
export function collect(c: MqttClient): { messages: Received[]; next(ms?: number): Promise<Received> } {
  const messages: Received[] = [];
  let cursor = 0;
  const waiters: (() => void)[] = [];
  c.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), packet });
    waiters.splice(0).forEach((w) => w());
  });
  return {
    messages,
    next: async (ms = 3000) => {
      const deadline = Date.now() + ms;
      while (cursor >= messages.length) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no message in time');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return messages[cursor++] as Received;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A client that speaks raw packets, so tests see exactly what the broker sends. */
export class RawClient {
  readonly packets: Packet[] = [];
  closed = false;
  private readonly parser: ReturnType<typeof createParser>;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: Socket,
    private readonly version: number,
  ) {
    this.parser = createParser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.wake();
    });
    socket.on('data', (d: Buffer) => this.parser.parse(d));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  static async open(port: number, version = 4): Promise<RawClient> {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawClient(socket, version);
  }

  /** Opens a socket and sends CONNECT; resolves after the CONNACK. */
  static async connect(port: number, connect: Omit<Extract<Packet, { cmd: 'connect' }>, 'cmd'>): Promise<{ raw: RawClient; connack: Extract<Packet, { cmd: 'connack' }> }> {
    const version = connect.protocolVersion ?? 4;
    const raw = await RawClient.open(port, version);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, ...connect });
    const connack = await raw.next('connack');
    return { raw, connack };
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet, { protocolVersion: this.version }));
  }

  /** The next packet of that type (any type when omitted), removing it from the buffer. */
  async next<C extends Packet['cmd']>(cmd?: C, ms = 3000): Promise<Extract<Packet, { cmd: C }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.packets.findIndex((p) => cmd === undefined || p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0] as Extract<Packet, { cmd: C }>;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw new Error(`no ${cmd ?? 'packet'} (closed=${this.closed})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves when the broker closes the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await sleep(20);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
