/**
 * Broker state across a restart (persistence.ts): a broker is closed and a new one is started on
 * the same BrokerStateStore — in memory and in a SQLite file — and clients find their persistent
 * sessions (MQTT 5.0 §3.1.2.4, §3.1.2.11.2, §4.1), their queued and in-flight messages (resent with
 * DUP, §4.4) and the retained messages again.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerStateChange, BrokerStateStore } from '../../../../src/ports.js';
import { conformancePolicy } from '../../../../src/adapters/transport/mqtt/auth.js';
import { MqttBroker, type BrokerOptions } from '../../../../src/adapters/transport/mqtt/broker.js';
import { closeServer, listen } from '../../../../src/adapters/transport/mqtt/listeners.js';
import { createMemoryBrokerState } from '../../../../src/adapters/store/memory/broker-state.js';
import { openSqliteStore } from '../../../../src/adapters/store/sqlite/index.js';
import type { Store } from '../../../../src/ports.js';
import { tempDir } from '../../../support/tmp.js';
import { CountingMetrics, RawClient, client, clientWithInbox, silentLogger, sleep, type TestBroker } from './helpers.js';

/** A broker on the state, restored before it listens, as the transport starts it. */
async function startWith(state: BrokerStateStore, options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const metrics = new CountingMetrics();
  const broker = new MqttBroker({ logger: silentLogger, policy: conformancePolicy(), ...options, metrics, state });
  await broker.restore();
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

interface Backend {
  /** The same state each call, as a restarted process would open it. */
  open(): BrokerStateStore;
  /** Closes what the last open() opened. */
  close(): Promise<void>;
}

function memoryBackend(): Backend {
  const state = createMemoryBrokerState();
  return { open: () => state, close: () => Promise.resolve() };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function sqliteBackend(): Backend {
  const dir = tempDir('continuum-broker-state-');
  dirs.push(dir);
  let store: Store | undefined;
  return {
    open() {
      const opened = openSqliteStore({ file: join(dir, 'continuum.db'), synchronous: 'NORMAL', checkpoints: false });
      store = opened.store;
      return opened.brokerState;
    },
    close: async () => {
      await store?.close();
      store = undefined;
    },
  };
}

/** Runs `first` on one broker, restarts, then `second` on a broker over the same state. */
async function acrossRestart(
  backend: Backend,
  first: (tb: TestBroker) => Promise<void>,
  second: (tb: TestBroker) => Promise<void>,
  options: Partial<BrokerOptions> = {},
  secondOptions: Partial<BrokerOptions> = options,
): Promise<void> {
  const a = await startWith(backend.open(), options);
  try {
    await first(a);
  } finally {
    await a.close();
    await backend.close();
  }
  const b = await startWith(backend.open(), secondOptions);
  try {
    await second(b);
  } finally {
    await b.close();
    await backend.close();
  }
}

for (const [name, make] of [
  ['memory', memoryBackend],
  ['sqlite', sqliteBackend],
] as const) {
  describe(`broker state across a restart (${name})`, () => {
    it('MQTT 5 Clean Start 0, Session Expiry > 0: a QoS 1 message queued while offline arrives after the restart, session present', async () => {
      const opts = { clientId: 'v5-persistent', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } };
      await acrossRestart(
        make(),
        async (tb) => {
          const dev = await client(tb.url, opts);
          await dev.subscribeAsync('cmd/#', { qos: 1, properties: { subscriptionIdentifier: 7 } });
          await dev.endAsync();
          const pub = await client(tb.url, { protocolVersion: 5 });
          // PUBACK comes once the queued copy is durable.
          await pub.publishAsync('cmd/a', 'while-offline', {
            qos: 1,
            properties: { userProperties: { k: 'v' }, correlationData: Buffer.from([1, 2, 3]), contentType: 'text/plain', messageExpiryInterval: 3600 },
          });
          await pub.endAsync();
        },
        async (tb) => {
          const { client: dev, inbox, sessionPresent } = await clientWithInbox(tb.url, opts);
          assert.equal(sessionPresent, true);
          const m = await inbox.next();
          assert.equal(m.payload, 'while-offline');
          assert.equal(m.packet.qos, 1);
          const p = m.packet.properties ?? {};
          assert.deepEqual({ ...p.userProperties }, { k: 'v' });
          assert.deepEqual(p.correlationData, Buffer.from([1, 2, 3]));
          assert.equal(p.contentType, 'text/plain');
          assert.deepEqual(p.subscriptionIdentifier, 7);
          assert.ok((p.messageExpiryInterval ?? 0) > 3500);
          // The subscription itself survived: a new message is routed without subscribing again.
          const pub = await client(tb.url);
          await pub.publishAsync('cmd/b', 'after-restart', { qos: 1 });
          assert.equal((await inbox.next()).payload, 'after-restart');
          await Promise.all([dev.endAsync(), pub.endAsync()]);
        },
      );
    });

    it('MQTT 3.1.1 Clean Session 0: the subscription and the offline queue survive, in order', async () => {
      const opts = { clientId: 'v311-persistent', clean: false, protocolVersion: 4 as const };
      await acrossRestart(
        make(),
        async (tb) => {
          const dev = await client(tb.url, opts);
          await dev.subscribeAsync('t/+', { qos: 2 });
          await dev.endAsync();
          const pub = await client(tb.url);
          // One QoS per check: MQTT.js hands QoS 2 messages over only at PUBREL, after later QoS 1 ones.
          for (let i = 0; i < 5; i++) await pub.publishAsync('t/x', `m${i}`, { qos: 1 });
          await pub.endAsync();
        },
        async (tb) => {
          const { client: dev, inbox, sessionPresent } = await clientWithInbox(tb.url, opts);
          assert.equal(sessionPresent, true);
          const got = [];
          for (let i = 0; i < 5; i++) got.push((await inbox.next()).payload);
          assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
          const pub = await client(tb.url);
          await pub.publishAsync('t/y', 'live', { qos: 1 });
          assert.equal((await inbox.next()).payload, 'live');
          await Promise.all([dev.endAsync(), pub.endAsync()]);
        },
      );
    });

    it('in-flight QoS 1 and QoS 2 (PUBREL stage) are resent after the restart with their packet ids, DUP set [MQTT-4.4.0-1]', async () => {
      const connect = { clientId: 'inflight', clean: false, protocolVersion: 4 } as const;
      let ids: number[] = [];
      await acrossRestart(
        make(),
        async (tb) => {
          const { raw } = await RawClient.connect(tb.port, connect);
          raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'f/#', qos: 2 }] });
          await raw.next('suback');
          tb.broker.publish('', 'f/1', 'one', { qos: 1 });
          tb.broker.publish('', 'f/2', 'two', { qos: 2 });
          const p1 = await raw.next('publish');
          const p2 = await raw.next('publish');
          ids = [p1.messageId ?? 0, p2.messageId ?? 0];
          raw.send({ cmd: 'pubrec', messageId: p2.messageId ?? 0 });
          await raw.next('pubrel');
          await sleep(20); // the PUBREL stage is written in the next turn
          raw.close(); // neither PUBACK nor PUBCOMP
          await sleep(50);
        },
        async (tb) => {
          const { raw, connack } = await RawClient.connect(tb.port, connect);
          assert.equal(connack.sessionPresent, true);
          const again = await raw.next('publish');
          assert.equal(again.dup, true);
          assert.equal(again.messageId, ids[0]);
          assert.equal(again.payload.toString(), 'one');
          const rel = await raw.next('pubrel');
          assert.equal(rel.messageId, ids[1]);
          raw.send({ cmd: 'puback', messageId: ids[0] as number });
          raw.send({ cmd: 'pubcomp', messageId: ids[1] as number });
          await sleep(50);
          raw.close();
        },
      );
    });

    it('a retained message survives the restart, and the retained quota still counts it', async () => {
      const limits = { maxPerClient: 1, maxBytesPerClient: 1 << 20, maxTotal: 100, maxBytesTotal: 1 << 24 };
      await acrossRestart(
        make(),
        async (tb) => {
          const pub = await client(tb.url, { clientId: 'retainer', protocolVersion: 5 });
          await pub.publishAsync('status/one', 'kept', { qos: 1, retain: true });
          await pub.endAsync();
        },
        async (tb) => {
          const sub = await clientWithInbox(tb.url, { protocolVersion: 5 });
          await sub.client.subscribeAsync('status/#', { qos: 1 });
          const m = await sub.inbox.next();
          assert.equal(m.payload, 'kept');
          assert.equal(m.packet.retain, true);
          // The owner of the kept topic is still at its quota of one: a second topic is refused.
          const pub = await client(tb.url, { clientId: 'retainer', protocolVersion: 5 });
          const refused = await pub.publishAsync('status/two', 'over', { qos: 1, retain: true }).then(
            (p) => (p as { reasonCode?: number } | undefined)?.reasonCode,
            (err: { code?: number }) => err.code,
          );
          assert.equal(refused, 0x97);
          // Deleting it works and is kept too.
          await pub.publishAsync('status/one', '', { qos: 1, retain: true });
          await Promise.all([sub.client.endAsync(), pub.endAsync()]);
        },
        { retained: limits },
      );
    });

    it('a session whose expiry passed while the broker was down is gone (expiry counted from the disconnect)', async () => {
      const opts = { clientId: 'short-lived', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 1 } };
      const backend = make();
      await acrossRestart(
        backend,
        async (tb) => {
          const dev = await client(tb.url, opts);
          await dev.subscribeAsync('gone/#', { qos: 1 });
          await dev.endAsync();
          const pub = await client(tb.url);
          await pub.publishAsync('gone/x', 'queued', { qos: 1 });
          await pub.endAsync();
          await sleep(1200);
        },
        async (tb) => {
          const { client: dev, inbox, sessionPresent } = await clientWithInbox(tb.url, opts);
          assert.equal(sessionPresent, false);
          await sleep(200);
          assert.equal(inbox.messages.length, 0);
          await dev.endAsync();
        },
      );
    });

    it('Clean Start after a restart discards the kept session; expiry 0 sessions are never written', async () => {
      const backend = make();
      const opts = { clientId: 'clean-later', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 60 } };
      await acrossRestart(
        backend,
        async (tb) => {
          const dev = await client(tb.url, opts);
          await dev.subscribeAsync('c/#', { qos: 1 });
          await dev.endAsync();
          const transient = await client(tb.url, { clientId: 'transient', clean: true, protocolVersion: 5 });
          await transient.subscribeAsync('c/#', { qos: 1 });
          const pub = await client(tb.url);
          await pub.publishAsync('c/1', 'x', { qos: 1 });
          await Promise.all([pub.endAsync(), transient.endAsync()]);
        },
        async (tb) => {
          const { client: dev, inbox, sessionPresent } = await clientWithInbox(tb.url, { ...opts, clean: true });
          assert.equal(sessionPresent, false);
          await sleep(100);
          assert.equal(inbox.messages.length, 0);
          await dev.endAsync();
        },
      );
      const left = await backend.open().load();
      await backend.close();
      // clean-later connected again with Session Expiry 60, so it is kept (empty); transient never was.
      assert.deepEqual(left.sessions.map((s) => s.clientId), ['clean-later']);
      assert.deepEqual(left.sessions[0]?.subscriptions, []);
      assert.deepEqual(left.outbound, []);
    });

    it('a lower queue limit after the restart keeps the newest messages and counts the drops', async () => {
      const opts = { clientId: 'queue-limit', clean: false, protocolVersion: 4 as const };
      await acrossRestart(
        make(),
        async (tb) => {
          const dev = await client(tb.url, opts);
          await dev.subscribeAsync('q', { qos: 1 });
          await dev.endAsync();
          const pub = await client(tb.url);
          for (let i = 0; i < 5; i++) await pub.publishAsync('q', String(i), { qos: 1 });
          await pub.endAsync();
        },
        async (tb) => {
          assert.equal(tb.metrics.get('reject:mqtt:QUEUE_FULL'), 3);
          const { client: dev, inbox } = await clientWithInbox(tb.url, opts);
          assert.deepEqual([(await inbox.next()).payload, (await inbox.next()).payload], ['3', '4']);
          await dev.endAsync();
        },
        {},
        { maxQueuedMessages: 2 },
      );
    });
  });
}

describe('the session cap (mqtt.maxSessions)', () => {
  it('counts restored persistent sessions: a CONNECT needing a new session is refused (0x97; 3.1.1: 3), a kept one resumes', async () => {
    const keep = (id: string) => ({ clientId: id, clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 600 } });
    await acrossRestart(
      memoryBackend(),
      async (tb) => {
        for (const id of ['kept-1', 'kept-2']) await (await client(tb.url, keep(id))).endAsync();
      },
      async (tb) => {
        const refusedV5 = await RawClient.connect(tb.port, { clientId: 'third', protocolVersion: 5, clean: true });
        assert.equal(refusedV5.connack.reasonCode, 0x97);
        const refused311 = await RawClient.connect(tb.port, { clientId: 'third', protocolVersion: 4, clean: true });
        assert.equal(refused311.connack.returnCode, 3);
        assert.equal(tb.metrics.get('reject:mqtt:SESSION_LIMIT'), 2);
        const { client: again, sessionPresent } = await clientWithInbox(tb.url, keep('kept-1'));
        assert.equal(sessionPresent, true);
        await again.endAsync();
        refusedV5.raw.close();
        refused311.raw.close();
      },
      { maxSessions: 2 },
    );
  });
});

describe('acknowledgements wait for the state to be durable', () => {
  /** A state store whose writes wait until released, or fail. */
  function gated(): { state: BrokerStateStore; release(): void; fail: boolean; batches: BrokerStateChange[][] } {
    const inner = createMemoryBrokerState();
    let open: () => void = () => undefined;
    let gate = Promise.resolve();
    const ctl = {
      fail: false,
      batches: [] as BrokerStateChange[][],
      release: () => open(),
      state: {
        kind: 'gated',
        load: () => inner.load(),
        apply: async (changes: readonly BrokerStateChange[]) => {
          ctl.batches.push([...changes]);
          await gate;
          if (ctl.fail) throw new Error('disk full');
          await inner.apply(changes);
        },
        close: () => inner.close(),
      },
    };
    gate = new Promise((r) => (open = r));
    return ctl;
  }

  it('the PUBACK of a message queued for an offline persistent session comes after the write; a failed write is refused (0x80 on MQTT 5)', async () => {
    const g = gated();
    const tb = await startWith(g.state);
    try {
      const dev = await client(tb.url, { clientId: 'slow-disk', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 60 } });
      await dev.subscribeAsync('s', { qos: 1 });
      await dev.endAsync();
      const pub = await client(tb.url, { protocolVersion: 5 });
      let acked = false;
      const publishing = pub.publishAsync('s', 'x', { qos: 1 }).then(() => (acked = true));
      await sleep(100);
      assert.equal(acked, false, 'acknowledged before the write');
      g.release();
      await publishing;
      assert.ok(g.batches.some((b) => b.some((c) => c.op === 'putOutbound')));
      g.fail = true;
      const code = await pub.publishAsync('s', 'y', { qos: 1 }).then(
        (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
        (err: { code?: number }) => err.code,
      );
      assert.equal(code, 0x80); // 0x88 is mapped to 0x80, which PUBACK allows (MQTT 5.0 §3.4.2.1)
      assert.equal(tb.metrics.get('reject:mqtt:UNAVAILABLE'), 1);
      // Routing to nobody persistent writes nothing and is acknowledged at once.
      const before = g.batches.length;
      await pub.publishAsync('nobody/listens', 'z', { qos: 1 });
      assert.equal(g.batches.length, before);
      await pub.endAsync();
    } finally {
      g.release();
      await tb.close();
    }
  });
});
