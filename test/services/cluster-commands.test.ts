/**
 * Two nodes on one store, one bus and one presence (issue 13, node identity): command claims and
 * leases, compare-and-set transitions, RPC routed to the node holding the session. Each runs on
 * the memory store and on two SQLite connections to one file.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { MemoryPresence } from '../../src/adapters/presence/memory/presence.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { systemClock, type Store } from '../../src/ports.js';
import { FakeDevice, harness, logger, T, until, type Harness } from './actions-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-cluster-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Backend {
  readonly name: string;
  /** Two handles on one storage: the same object (memory), two connections (SQLite). */
  open(): [Store, Store];
}

const BACKENDS: Backend[] = [
  {
    name: 'memory',
    open: () => {
      const store = createMemoryStore();
      // closing the shared memory store twice is fine
      return [store, store];
    },
  },
  {
    name: 'sqlite',
    open: () => {
      const file = join(dir, `cluster-${++files}.db`);
      return [createSqliteStore({ file, synchronous: 'NORMAL' }), createSqliteStore({ file, synchronous: 'NORMAL' })];
    },
  },
];

const LEASE_MS = 300;

for (const backend of BACKENDS) {
  describe(`two nodes, one store (${backend.name})`, () => {
    const nodes: Harness[] = [];
    afterEach(async () => {
      // the node started last first: the others may still use the store it shares
      for (const n of nodes.splice(0).reverse()) await n.close().catch(() => undefined);
    });

    /** Node A and node B sharing a store, a bus and presence. */
    async function cluster(options: { startB?: boolean } = {}): Promise<[Harness, Harness]> {
      const [storeA, storeB] = backend.open();
      const bus = new MemoryBus(logger);
      const presence = new MemoryPresence(systemClock);
      const a = await harness({ store: storeA, bus, presence, nodeId: 'node-a', commands: { leaseMs: LEASE_MS } });
      nodes.push(a);
      const b = await harness({ store: storeB, bus, presence, nodeId: 'node-b', commands: { leaseMs: LEASE_MS }, start: options.startB ?? true });
      nodes.push(b);
      return [a, b];
    }

    it("B's start does not steal A's in-flight command; once A's lease expires B takes it over", async () => {
      const [storeA, storeB] = backend.open();
      const bus = new MemoryBus(logger);
      const presence = new MemoryPresence(systemClock);
      const a = await harness({ store: storeA, bus, presence, nodeId: 'node-a', commands: { leaseMs: LEASE_MS } });
      nodes.push(a);
      const identity = await a.device('valve');
      const onA = new FakeDevice(a, identity).connect().listen(); // silent: the command stays in flight
      const c = await a.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'open', persistent: true, timeoutMs: 60_000 });
      await until(async () => (await storeA.getCommand(c.id))?.status === 'DELIVERED', 3000, 'DELIVERED');
      const claimed = await storeA.getCommand(c.id);
      assert.equal(claimed?.claimedBy, 'node-a');
      assert.ok((claimed?.leaseUntil ?? 0) > Date.now());

      // B starts while A lives and renews: A's command stays A's, not sent again
      const b = await harness({ store: storeB, bus, presence, nodeId: 'node-b', commands: { leaseMs: LEASE_MS } });
      nodes.push(b);
      await new Promise((r) => setTimeout(r, LEASE_MS * 3));
      const still = await storeB.getCommand(c.id);
      assert.equal(still?.status, 'DELIVERED');
      assert.equal(still?.claimedBy, 'node-a');
      assert.ok((still?.leaseUntil ?? 0) > (claimed?.leaseUntil ?? 0), 'A renewed its lease');
      assert.equal(onA.requests.length, 1);

      // A dies: no more renewals, its sessions expire from presence; the device comes back on B
      await a.stopNode();
      await presence.expireNode('node-a');
      const onB = new FakeDevice(b, identity).connect().listen(() => ({ opened: true }));
      await until(async () => (await storeB.getCommand(c.id))?.status === 'SUCCESSFUL', 5000, 'SUCCESSFUL via B');
      const done = await storeB.getCommand(c.id);
      assert.equal(done?.claimedBy, 'node-b');
      assert.equal(done?.leaseUntil, undefined, 'a final command holds no lease');
      assert.deepEqual(done?.response, { opened: true });
      assert.equal(onB.requests.length, 1);
    });

    it('at start a node takes back its own earlier run’s commands at once, even with a live lease', async () => {
      const [a, b] = await cluster();
      const identity = await a.device('pump');
      new FakeDevice(a, identity).connect().listen();
      const c = await a.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'run', persistent: true, timeoutMs: 60_000 });
      await until(async () => (await a.store.getCommand(c.id))?.claimedBy === 'node-a', 3000, 'claimed');
      await a.stopNode();
      await a.presence.expireNode('node-a'); // its device went with it: nothing flushes the command
      // "node-a" restarts (same node id, e.g. from the data dir's node-id file) before the lease ran out
      const again = await harness({ store: a.store, bus: a.bus, presence: a.presence, nodeId: 'node-a', commands: { leaseMs: 60_000 } });
      nodes.push(again);
      const after = await again.store.getCommand(c.id);
      assert.equal(after?.status, 'QUEUED');
      assert.equal(after?.claimedBy, undefined);
      assert.equal((await b.store.getCommand(c.id))?.status, 'QUEUED', 'B sees the same');
    });

    it('two nodes flushing one outbox at once send each command once (the claim is compare-and-set)', async () => {
      const [a, b] = await cluster();
      const identity = await a.device('door');
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await a.commands.send({ tenantId: T, deviceId: identity.deviceId, method: `m${i}`, persistent: true })).id);
      const device = new FakeDevice(a, identity).connect().listen((r) => ({ done: r.method }));
      // A flushes on the status event; B is told at the same moment
      a.commands.flush(identity.deviceId);
      b.commands.flush(identity.deviceId);
      await until(async () => (await Promise.all(ids.map((id) => a.store.getCommand(id)))).every((c) => c?.status === 'SUCCESSFUL'), 5000, 'all SUCCESSFUL');
      assert.deepEqual(device.requests.map((r) => r.method).sort(), ids.map((_, i) => `m${i}`).sort(), 'each command reached the device once');
      const requestIds = device.requests.map((r) => r.id);
      assert.equal(new Set(requestIds).size, requestIds.length, 'no request id twice');
    });

    it('an RPC sent on B reaches the device connected to A, once; B does not queue it', async () => {
      const [a, b] = await cluster();
      const identity = await a.device('lamp');
      const device = new FakeDevice(a, identity).connect().listen(() => ({ on: true }));
      await a.sessions.settled();
      const c = await b.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'on' });
      assert.equal(c.status, 'SUCCESSFUL');
      assert.deepEqual(c.response, { on: true });
      assert.equal(device.requests.length, 1);
      // B knows the device is online only through presence
      assert.equal(b.status.isDeviceOnline(identity.deviceId), false);
      assert.equal((await b.presence.lookup(identity.deviceId))?.nodeId, 'node-a');
      const [seenFromB] = await b.status.getStatuses([identity.deviceId]);
      assert.equal(seenFromB?.online, true, "B's status view counts A's session");
      assert.equal(seenFromB?.nodeId, 'node-a');
      device.disconnect();
      await a.sessions.settled();
      assert.equal(await b.presence.lookup(identity.deviceId), undefined);
      const offline = await b.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'on' });
      assert.equal(offline.status, 'FAILED');
    });

    it('an RPC for a device not listening yet waits on the node holding its session only', async () => {
      const [a, b] = await cluster();
      const identity = await a.device('sleepy');
      const onA = new FakeDevice(a, identity).connect(); // connected, not subscribed to RPC yet
      await a.sessions.settled();
      await b.rpc.call({ tenantId: T, deviceId: identity.deviceId, method: 'wake', params: {}, oneway: true, timeoutMs: 5_000 });
      await new Promise((r) => setTimeout(r, 20));
      onA.listen();
      await until(() => onA.requests.length === 1, 3000, 'delivered on A');
      // had B queued it too, a session of the device on B would get it a second time
      const onB = new FakeDevice(b, identity).connect().listen();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(onB.requests.length, 0);
      assert.equal(onA.requests.length, 1);
    });

    it('a stale node cannot mark a device offline after another node accepted its new session', async () => {
      const [a, b] = await cluster();
      const identity = await a.device('roamer');
      const onA = new FakeDevice(a, identity).connect();
      await a.sessions.settled();
      await a.status.flush();
      // the device reconnects to B before A noticed the old connection is gone
      await new Promise((r) => setTimeout(r, 5)); // a later millisecond: a later epoch
      new FakeDevice(b, identity).connect();
      await b.sessions.settled();
      await b.status.flush();
      // A now sees its session end and writes "offline" — under the older epoch
      onA.disconnect();
      await a.sessions.settled();
      await a.status.flush();
      const [stored] = await b.store.getStatuses([identity.deviceId]);
      assert.equal(stored?.online, true);
      assert.equal(stored?.nodeId, 'node-b');
      assert.equal((await a.presence.lookup(identity.deviceId))?.nodeId, 'node-b', "A's disconnect left B's entry");
    });
  });
}
