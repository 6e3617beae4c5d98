/**
 * The cluster ports' contract (ports/cluster.ts), run on the memory implementation and on
 * PostgreSQL: membership expiry, lease epochs, fencing of a deposed owner's checkpoint and
 * firings, unique firing keys.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../../src/domain/device.js';
import type { Rule } from '../../../src/domain/rules/model.js';
import type { ClusterBackend, Store } from '../../../src/ports.js';

export interface ClusterHarness {
  readonly cluster: ClusterBackend;
  readonly store: Store;
  /** Lets `ms` pass on the implementation's clock (the memory one's hand clock; real time for PostgreSQL). */
  pass(ms: number): Promise<void>;
  close(): Promise<void>;
}

const TTL = 300;

async function saveRule(store: Store, id: string): Promise<void> {
  await store.ensureTenant({ id: DEFAULT_TENANT_ID, name: 'default' });
  await store.saveRule({ id, tenantId: DEFAULT_TENANT_ID, name: id, createdAt: 1, updatedAt: 1 } as unknown as Rule);
}

const firing = (ts: number) => ({ key: { ruleId: 'r1', deviceId: 'd1', edge: 'raise', ts }, payload: `{"ts":${ts}}` });

export function clusterContract(name: string, open: () => Promise<ClusterHarness>): void {
  describe(`cluster ports: ${name}`, () => {
    const opened: ClusterHarness[] = [];
    const harness = async (): Promise<ClusterHarness> => {
      const h = await open();
      opened.push(h);
      return h;
    };
    after(async () => {
      for (const h of opened) await h.close();
    });

    it('membership: live until the ttl passes; a gone node is reaped once', async () => {
      const { cluster, pass } = await harness();
      const m = cluster.membership;
      await m.heartbeat('n1', TTL, { http: 'x' });
      await m.heartbeat('n2', 60_000);
      assert.deepEqual((await m.liveNodes()).map((n) => n.nodeId), ['n1', 'n2']);
      assert.deepEqual((await m.liveNodes())[0]?.info, { http: 'x' });
      await pass(TTL + 50);
      assert.deepEqual((await m.liveNodes()).map((n) => n.nodeId), ['n2']);
      assert.deepEqual(await m.reapGone(), ['n1']);
      assert.deepEqual(await m.reapGone(), []);
      await m.leave('n2');
      assert.deepEqual(await m.liveNodes(), []);
    });

    it('leases: one holder at a time; a taker after expiry or release gets a greater epoch', async () => {
      const { cluster, pass } = await harness();
      const l = cluster.leases;
      const e1 = await l.acquire('g', 0, 'a', TTL);
      assert.equal(typeof e1, 'number');
      assert.equal(await l.acquire('g', 0, 'b', TTL), undefined, 'held by a, not expired');
      assert.equal(await l.acquire('g', 0, 'a', TTL), e1, 'the holder keeps its epoch');
      assert.deepEqual(await l.renew('g', new Map([[0, e1 as number]]), 'a', TTL), [0]);
      await pass(TTL + 50);
      assert.deepEqual((await l.owners('g')).map((o) => [o.partition, o.nodeId, o.expired]), [[0, 'a', true]]);
      const e2 = await l.acquire('g', 0, 'b', TTL);
      assert.ok(e2 !== undefined && e2 > (e1 as number), 'expired: taken with a greater epoch');
      assert.deepEqual(await l.renew('g', new Map([[0, e1 as number]]), 'a', TTL), [], 'the deposed holder cannot renew');
      await l.release('g', 0, 'a', e1 as number); // not a's any more: no effect
      assert.equal((await l.owners('g'))[0]?.nodeId, 'b');
      await l.release('g', 0, 'b', e2);
      assert.deepEqual(await l.owners('g'), []);
      const e3 = await l.acquire('g', 0, 'a', TTL);
      assert.ok(e3 !== undefined && e3 > e2, 'after a release: a greater epoch');
      assert.equal(await l.acquire('other', 0, 'b', TTL), 1, 'groups are independent');
    });

    it('checkpoint: states and positions in one write; a deposed owner is fenced', async () => {
      const { cluster, store, pass } = await harness();
      await saveRule(store, 'r1');
      const { leases, checkpoints } = cluster;
      const ea = (await leases.acquire('rules', 3, 'a', TTL)) as number;
      const state = (s: string) => [{ ruleId: 'r1', deviceId: 'd1', state: s, updatedAt: 5 }];
      assert.equal(await checkpoints.commit('rules', 'a', { partition: 3, epoch: ea, positions: { telemetry: 10 }, states: state('A1') }), true);
      assert.deepEqual(await checkpoints.positions('rules', 3), { telemetry: 10 });
      assert.equal((await store.loadRuleState('r1', 'd1'))?.state, 'A1');
      await pass(TTL + 50);
      // expired but nobody took it: still a's (the taker's epoch bump would come after this write)
      assert.equal(await checkpoints.commit('rules', 'a', { partition: 3, epoch: ea, positions: { status: 2 }, states: state('A2') }), true);
      assert.deepEqual(await checkpoints.positions('rules', 3), { telemetry: 10, status: 2 });
      const eb = (await leases.acquire('rules', 3, 'b', TTL)) as number;
      assert.equal(await checkpoints.commit('rules', 'a', { partition: 3, epoch: ea, positions: { telemetry: 99 }, states: state('late') }), false, 'fenced');
      assert.equal((await store.loadRuleState('r1', 'd1'))?.state, 'A2', "the deposed owner's late flush wrote nothing");
      assert.deepEqual(await checkpoints.positions('rules', 3), { telemetry: 10, status: 2 });
      assert.equal(await checkpoints.commit('rules', 'b', { partition: 3, epoch: eb, positions: { telemetry: 11 }, states: state('B1') }), true);
      assert.equal((await store.loadRuleState('r1', 'd1'))?.state, 'B1');
      assert.deepEqual(await checkpoints.positions('rules', 4), {});
    });

    it('firings: recorded once, fenced, handed to the next owner until dispatched', async () => {
      const { cluster, pass } = await harness();
      const { leases, checkpoints } = cluster;
      const ea = (await leases.acquire('rules', 1, 'a', TTL)) as number;
      assert.equal(await checkpoints.recordFiring('rules', 1, 'a', ea, firing(100)), true);
      assert.equal(await checkpoints.recordFiring('rules', 1, 'a', ea, firing(100)), false, 'the same key again');
      assert.equal(await checkpoints.recordFiring('rules', 1, 'a', ea, firing(200)), true);
      assert.equal(await checkpoints.recordFiring('rules', 1, 'a', ea + 1, firing(300)), false, 'not under the held epoch');
      await checkpoints.markDispatched(firing(100).key);
      await pass(TTL + 50);
      const eb = (await leases.acquire('rules', 1, 'b', TTL)) as number;
      assert.equal(await checkpoints.recordFiring('rules', 1, 'a', ea, firing(400)), false, 'the deposed owner records nothing');
      assert.equal(await checkpoints.recordFiring('rules', 1, 'b', eb, firing(200)), false, 'a replay of a recorded firing');
      assert.deepEqual(await checkpoints.undispatched('rules', 1), [firing(200)]);
      await checkpoints.markDispatched(firing(200).key);
      assert.deepEqual(await checkpoints.undispatched('rules', 1), []);
      assert.equal(await checkpoints.pruneFirings(0), 0);
    });
  });
}
