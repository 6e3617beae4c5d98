/**
 * What keeping the broker's state costs routed client-to-client traffic (persistence.ts):
 *
 *   node --import tsx bench/broker-state.ts [--messages N] [--window N]
 *
 * An in-process broker (conformance policy) with no state, the memory state and the SQLite state;
 * one publisher sends N QoS 1 messages with `window` unacknowledged, to one subscriber that is
 * (a) a persistent session online (each message written, then deleted on its PUBACK), (b) a
 * persistent session offline (queued: written; the publisher's PUBACK waits for the commit), and
 * (c) a clean session (nothing written: the device-ingest-like baseline). Prints msgs/s per case;
 * the last line is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerStateStore, Logger, Store } from '../src/ports.js';
import { conformancePolicy } from '../src/adapters/transport/mqtt/auth.js';
import { MqttBroker } from '../src/adapters/transport/mqtt/broker.js';
import { closeServer, listen } from '../src/adapters/transport/mqtt/listeners.js';
import { createMemoryBrokerState } from '../src/adapters/store/memory/broker-state.js';
import { openSqliteStore } from '../src/adapters/store/sqlite/index.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, window: { type: 'string', default: '32' } } });
const N = Number(values.messages);
const WINDOW = Number(values.window);

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

const connect = (url: string, opts: mqtt.IClientOptions): Promise<MqttClient> => mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts }, false);

async function publishAll(pub: MqttClient, topic: string): Promise<number> {
  const payload = Buffer.alloc(100, 7);
  const start = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (sent >= N) return;
      sent++;
      pub.publish(topic, payload, { qos: 1 }, () => {
        if (++done === N) resolve();
        else next();
      });
    };
    for (let i = 0; i < WINDOW; i++) next();
  });
  return Math.round(N / ((performance.now() - start) / 1000));
}

async function run(kind: 'none' | 'memory' | 'sqlite'): Promise<Record<string, number>> {
  let store: Store | undefined;
  let state: BrokerStateStore | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'continuum-bench-state-'));
  if (kind === 'memory') state = createMemoryBrokerState();
  if (kind === 'sqlite') ({ store, brokerState: state } = openSqliteStore({ file: join(dir, 'c.db'), synchronous: 'NORMAL' }));
  const broker = new MqttBroker({ logger: silent, policy: conformancePolicy(), maxQueuedMessages: N, ...(state ? { state } : {}) });
  await broker.restore();
  const { server, address } = await listen(broker, { name: 'mqtt', host: '127.0.0.1', port: 0, flag: '--mqtt-port' });
  const url = `mqtt://127.0.0.1:${address.port}`;
  const out: Record<string, number> = {};
  try {
    const pub = await connect(url, { clientId: 'pub', protocolVersion: 5 });
    // (a) persistent, online
    const online = await connect(url, { clientId: 'online', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await online.subscribeAsync('a', { qos: 1 });
    let got = 0;
    const received = new Promise<void>((resolve) => online.on('message', () => ++got === N && resolve()));
    out.persistentOnline = await publishAll(pub, 'a');
    await received;
    await online.endAsync();
    // (b) persistent, offline: queued
    const offline = await connect(url, { clientId: 'offline', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await offline.subscribeAsync('b', { qos: 1 });
    await offline.endAsync();
    out.persistentOffline = await publishAll(pub, 'b');
    // (c) clean session, online
    const clean = await connect(url, { clientId: 'clean', protocolVersion: 5 });
    await clean.subscribeAsync('c', { qos: 1 });
    out.clean = await publishAll(pub, 'c');
    await Promise.all([pub.endAsync(), clean.endAsync()]);
  } finally {
    const closing = closeServer(server);
    await broker.close(1000);
    await closing;
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const results: Record<string, Record<string, number>> = {};
for (const kind of ['none', 'memory', 'sqlite'] as const) {
  results[kind] = await run(kind);
  console.log(kind.padEnd(8), Object.entries(results[kind] ?? {}).map(([k, v]) => `${k} ${v.toLocaleString('en')} msg/s`).join(', '));
}
console.log(JSON.stringify({ messages: N, window: WINDOW, results }));
