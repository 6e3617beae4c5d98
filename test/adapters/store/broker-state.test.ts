/**
 * The BrokerStateStore contract, on the memory and the SQLite implementation: what is put is loaded
 * back as it was (payload bytes, properties, order), deletions are complete, a batch is all or none.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerOutboundRecord, BrokerSessionRecord, BrokerStateStore, Store } from '../../../src/ports.js';
import { createMemoryBrokerState } from '../../../src/adapters/store/memory/broker-state.js';
import { openSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import { tempDir } from '../../support/tmp.js';
import { createPgBrokerState } from '../../../src/adapters/store/postgres/broker-state.js';
import { createPool } from '../../../src/adapters/store/postgres/db.js';
import { createTestDatabase, type TestDatabase } from './postgres-support.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

let schemas = 0;
/** The PostgreSQL broker state of node `nodeId` on a freshly migrated schema (or on `schema`, shared with another node). */
async function pgState(nodeId: string, schema?: string): Promise<{ state: BrokerStateStore; schema: string; close(): Promise<void> }> {
  if (schema === undefined) {
    await (await db.store()).close(); // migrates schema s<n>
    schema = `s${++schemas}`;
  }
  const pool = createPool({ url: db.url, poolSize: 2, statementTimeoutMs: 10_000, schema });
  pool.on('error', () => undefined); // DROP DATABASE ... WITH (FORCE) may reach a backend whose client already ended
  const state = createPgBrokerState(pool, nodeId);
  return { state, schema, close: async () => {
    await state.close();
    await pool.end();
  } };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const session = (key: string, extra: Partial<BrokerSessionRecord> = {}): BrokerSessionRecord => ({
  key,
  space: 'tenant-1',
  clientId: `client-${key}`,
  expiryInterval: 3600,
  disconnectedAt: 1_700_000_000_000,
  subscriptions: [
    { filter: 'a/+', qos: 1, noLocal: true, retainAsPublished: false, subscriptionId: 3, intercepted: false },
    { filter: 'v1/devices/me/rpc/request/+', qos: 1, noLocal: false, retainAsPublished: false, subscriptionId: undefined, intercepted: true },
  ],
  ...extra,
});

const outbound = (sessionKey: string, seq: number, extra: Partial<BrokerOutboundRecord> = {}): BrokerOutboundRecord => ({
  sessionKey,
  seq,
  message: { topic: `a/${seq}`, payload: Buffer.from([0, 255, seq]), qos: 2, retain: false, properties: '{"contentType":"x"}', expiresAt: 0, origin: 'o' },
  qos: 1,
  retain: false,
  subscriptionIds: [3],
  packetId: 0,
  state: 'publish',
  ...extra,
});

/** Drops the undefined-valued keys, which a JSON column does not keep. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (Buffer.isBuffer(x) ? x.toString('hex') : x))) as T;

for (const [name, open] of [
  ['memory', () => ({ state: createMemoryBrokerState(), close: () => Promise.resolve() })],
  [
    'sqlite',
    () => {
      const dir = tempDir('continuum-broker-state-contract-');
      dirs.push(dir);
      const { store, brokerState }: { store: Store; brokerState: BrokerStateStore } = openSqliteStore({ file: join(dir, 'c.db'), synchronous: 'NORMAL', checkpoints: false });
      return { state: brokerState, close: () => store.close() };
    },
  ],
  ['postgres', () => pgState('node-a')],
] as const) {
  describe(`BrokerStateStore contract (${name})`, () => {
    it('loads back what was put, messages in seq order with their bytes; later puts replace', async () => {
      const { state, close } = await open();
      try {
        await state.apply([
          { op: 'putSession', session: session('s1') },
          { op: 'putOutbound', outbound: outbound('s1', 2) },
          { op: 'putOutbound', outbound: outbound('s1', 1, { packetId: 9, state: 'pubrel', qos: 2, subscriptionIds: undefined }) },
          { op: 'putRetained', retained: { space: 'tenant-1', owner: 'dev-1', message: { topic: 'r', payload: Buffer.from('kept'), qos: 1, retain: true, properties: undefined, expiresAt: 5, origin: undefined } } },
        ]);
        await state.apply([{ op: 'putSession', session: session('s1', { disconnectedAt: undefined, expiryInterval: 60 }) }]);
        const snap = await state.load();
        assert.equal(snap.sessions.length, 1);
        assert.deepEqual(plain(snap.sessions[0]), plain(session('s1', { disconnectedAt: undefined, expiryInterval: 60 })));
        assert.deepEqual(snap.outbound.map((o) => o.seq), [1, 2]);
        assert.deepEqual(plain(snap.outbound[0]), plain(outbound('s1', 1, { packetId: 9, state: 'pubrel', qos: 2, subscriptionIds: undefined })));
        assert.ok(Buffer.isBuffer(snap.outbound[1]?.message.payload));
        assert.deepEqual(snap.outbound[1]?.message.payload, Buffer.from([0, 255, 2]));
        assert.equal(snap.retained[0]?.message.payload.toString(), 'kept');
        assert.equal(snap.retained[0]?.owner, 'dev-1');
      } finally {
        await close();
      }
    });

    it('session keys with NUL separators (as the broker makes them) and backslashes come back as they were', async () => {
      // Regression: PostgreSQL text refused the NUL in broker session keys ("invalid byte sequence for encoding UTF8: 0x00").
      const { state, close } = await open();
      const key = 'tenant-1\u0000dev-1\u0000client\\0\\';
      try {
        await state.apply([
          { op: 'putSession', session: session(key) },
          { op: 'putOutbound', outbound: outbound(key, 1, { message: { ...outbound(key, 1).message, origin: key } }) },
          { op: 'putRetained', retained: { space: 't', owner: key, message: { topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true, properties: undefined, expiresAt: 0, origin: key } } },
        ]);
        const snap = await state.load();
        assert.deepEqual(snap.sessions.map((s) => s.key), [key]);
        assert.deepEqual(snap.outbound.map((o) => [o.sessionKey, o.message.origin]), [[key, key]]);
        assert.deepEqual(snap.retained.map((r) => [r.owner, r.message.origin]), [[key, key]]);
        await state.apply([{ op: 'deleteOutbound', sessionKey: key, seq: 1 }, { op: 'deleteSession', key }]);
        const after = await state.load();
        assert.deepEqual([after.sessions, after.outbound], [[], []]);
      } finally {
        await close();
      }
    });

    it('deleteSession takes its messages along; deleteOutbound and deleteRetained remove one each', async () => {
      const { state, close } = await open();
      try {
        await state.apply([
          { op: 'putSession', session: session('s1') },
          { op: 'putSession', session: session('s2') },
          { op: 'putOutbound', outbound: outbound('s1', 1) },
          { op: 'putOutbound', outbound: outbound('s2', 1) },
          { op: 'putOutbound', outbound: outbound('s2', 2) },
          { op: 'putRetained', retained: { space: 't', owner: 'o', message: { topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true, properties: undefined, expiresAt: 0, origin: undefined } } },
        ]);
        await state.apply([
          { op: 'deleteSession', key: 's1' },
          { op: 'deleteOutbound', sessionKey: 's2', seq: 1 },
          { op: 'deleteRetained', space: 't', topic: 'r' },
        ]);
        const snap = await state.load();
        assert.deepEqual(snap.sessions.map((s) => s.key), ['s2']);
        assert.deepEqual(snap.outbound.map((o) => `${o.sessionKey}:${o.seq}`), ['s2:2']);
        assert.deepEqual(snap.retained, []);
        // A session put again after its deletion starts empty.
        await state.apply([{ op: 'deleteSession', key: 's2' }, { op: 'putSession', session: session('s2') }]);
        assert.deepEqual((await state.load()).outbound, []);
      } finally {
        await close();
      }
    });
  });
}

it('SQLite: a batch that fails part-way leaves nothing of it, and the state reopens from the file', async () => {
  const dir = tempDir('continuum-broker-state-tx-');
  dirs.push(dir);
  const file = join(dir, 'c.db');
  const first = openSqliteStore({ file, synchronous: 'NORMAL', checkpoints: false });
  await first.brokerState.apply([{ op: 'putSession', session: session('kept') }]);
  const bad = { op: 'putOutbound', outbound: { ...outbound('kept', 1), message: { ...outbound('kept', 1).message, topic: null } } } as unknown as Parameters<BrokerStateStore['apply']>[0][number];
  await assert.rejects(first.brokerState.apply([{ op: 'putSession', session: session('lost') }, bad]));
  await first.store.close();
  await assert.rejects(first.brokerState.apply([]), /closed/);
  const second = openSqliteStore({ file, synchronous: 'NORMAL', checkpoints: false });
  try {
    assert.deepEqual((await second.brokerState.load()).sessions.map((s) => s.key), ['kept']);
  } finally {
    await second.store.close();
  }
});

describe('BrokerStateStore on PostgreSQL, shared by nodes', () => {
  it('a node loads its own sessions; loadSession moves one to the node asking, adoptNode moves a gone node’s', async () => {
    const a = await pgState('a');
    const b = await pgState('b', a.schema);
    const c = await pgState('c', a.schema);
    try {
      await a.state.apply([
        { op: 'putSession', session: session('s1') },
        { op: 'putOutbound', outbound: outbound('s1', 1) },
        { op: 'putOutbound', outbound: outbound('s1', 2) },
        { op: 'putSession', session: session('s2') },
        { op: 'putRetained', retained: { space: 't', owner: 'o', message: { topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true, properties: undefined, expiresAt: 0, origin: undefined } } },
      ]);
      const onB = await b.state.load();
      assert.deepEqual(onB.sessions, [], 'another node’s sessions are not loaded at start');
      assert.deepEqual(onB.retained.map((r) => r.message.topic), ['r'], 'retained messages are');
      assert.equal(await b.state.loadSession?.('nope'), undefined);
      const moved = await b.state.loadSession?.('s1');
      assert.equal(moved?.session.key, 's1');
      assert.deepEqual(moved?.outbound.map((o) => o.seq), [1, 2]);
      assert.deepEqual((await a.state.load()).sessions.map((s) => s.key), ['s2']);
      assert.deepEqual((await b.state.load()).sessions.map((s) => s.key), ['s1']);
      const adopted = await c.state.adoptNode?.('a');
      assert.deepEqual(adopted?.sessions.map((s) => s.key), ['s2']);
      assert.deepEqual((await c.state.load()).sessions.map((s) => s.key), ['s2']);
      assert.deepEqual((await a.state.load()).sessions, []);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
