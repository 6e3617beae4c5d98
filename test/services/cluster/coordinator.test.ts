/**
 * PartitionCoordinator on PostgreSQL: three nodes share the partitions with exactly one owner
 * each; a node that dies (timers stopped, nothing released) has its partitions taken over after
 * the ttl under greater epochs; a node that joins gets its share as the others give work away;
 * a clean stop hands everything over.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresStore } from '../../../src/adapters/store/postgres/index.js';
import type { Logger } from '../../../src/ports.js';
import { PartitionCoordinator } from '../../../src/services/cluster/coordinator.js';
import { createTestDatabase, type TestDatabase } from '../../adapters/store/postgres-support.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const P = 8;
const TTL = 600;

async function until(what: string, check: () => Promise<boolean> | boolean, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

describe('PartitionCoordinator on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  before(async () => {
    db = await createTestDatabase();
    store = await db.store();
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  const node = (nodeId: string, group: string, gone?: string[]) =>
    new PartitionCoordinator({
      nodeId,
      group,
      partitions: P,
      ttlMs: TTL,
      membership: store.cluster.membership,
      leases: store.cluster.leases,
      logger: silent,
      ...(gone ? { onNodeGone: (id: string) => void gone.push(id) } : {}),
    });

  /** Each partition owned by exactly one coordinator, and every owner's view agrees with the leases. */
  async function exclusive(nodes: PartitionCoordinator[], group: string): Promise<boolean> {
    const claims = nodes.flatMap((n) => [...n.owned()]);
    if (claims.length !== P || new Set(claims).size !== P) return false;
    const leases = await store.cluster.leases.owners(group);
    return leases.length === P && leases.every((l) => !l.expired);
  }

  it('three nodes: one owner per partition; a dead node is taken over with greater epochs', async () => {
    const gone: string[] = [];
    const [a, b, c] = [node('a', 'g1', gone), node('b', 'g1', gone), node('c', 'g1', gone)] as [PartitionCoordinator, PartitionCoordinator, PartitionCoordinator];
    const changes: string[] = [];
    c.onChange(({ gained, lost }) => void changes.push(`+${gained.join(',')} -${lost.join(',')}`));
    await Promise.all([a.start(), b.start(), c.start()]);
    await until('fair shares', async () => (await exclusive([a, b, c], 'g1')) && [a, b, c].every((n) => [...n.owned()].length <= Math.ceil(P / 3)));
    const fromC = [...c.owned()];
    const epochs = new Map(fromC.map((p) => [p, c.epochOf(p) as number]));
    assert.ok(fromC.length > 0);
    c.halt(); // dies: no release, no leave
    await until('c taken over', async () => await exclusive([a, b], 'g1'));
    for (const p of fromC) {
      const owner = [a, b].find((n) => n.epochOf(p) !== undefined) as PartitionCoordinator;
      assert.ok((owner.epochOf(p) as number) > (epochs.get(p) as number), `partition ${p} taken under a greater epoch`);
    }
    await until('c reaped', () => gone.includes('c'));
    assert.deepEqual(gone, ['c'], 'reported once');
    await a.stop();
    await until('b owns all', async () => await exclusive([b], 'g1'));
    await b.stop();
    assert.deepEqual(await store.cluster.leases.owners('g1'), []);
    assert.deepEqual(await store.cluster.membership.liveNodes(), []);
  });

  it('a joining node gets its share from the others, one partition per round each', async () => {
    const a = node('a', 'g2');
    await a.start();
    assert.equal([...a.owned()].length, P, 'alone: everything');
    const lost: number[] = [];
    a.onChange((ch) => void lost.push(...ch.lost));
    const b = node('b', 'g2');
    await b.start();
    await until('shares even out', async () => (await exclusive([a, b], 'g2')) && [...b.owned()].length === P / 2);
    assert.equal(lost.length, P / 2, 'a stopped work on exactly what it gave away');
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a node whose renewals fail stops work before its leases can expire', async () => {
    const failing = { ...store.cluster.leases, renew: () => Promise.reject(new Error('database unreachable')) };
    const a = new PartitionCoordinator({ nodeId: 'a', group: 'g3', partitions: P, ttlMs: TTL, membership: store.cluster.membership, leases: failing, logger: silent });
    const dropped: number[] = [];
    a.onChange((ch) => void dropped.push(...ch.lost));
    await a.start();
    assert.equal([...a.owned()].length, P);
    await until('ownership dropped', () => [...a.owned()].length === 0);
    // dropped by the watchdog (ttl × 2/3 after the last renewal was sent), not by the database taking them
    const leases = await store.cluster.leases.owners('g3');
    assert.equal(dropped.length, P);
    assert.ok(leases.length === P && leases.every((l) => l.nodeId === 'a'));
    a.halt();
  });
});
