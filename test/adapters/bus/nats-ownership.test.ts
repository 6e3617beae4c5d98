/**
 * NATS bus work-queue members with partition ownership (BusSubscribeOptions.ownership): a member
 * consumes only the partitions it owns, several messages of a partition in flight at once, with
 * stream positions; a partition moved to another member goes on there, and what the old owner
 * held unsettled is delivered to the new one. (A message the server had already sent to the old
 * owner's closed pull comes back after ack_wait: 2 s here.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { NatsBus } from '../../../src/adapters/bus/nats/index.js';
import { partitionOf } from '../../../src/adapters/bus/nats/subjects.js';
import type { BusEvents, PartitionOwnership } from '../../../src/ports.js';
import { until } from './contract.js';
import { deleteStreams, NATS_URL } from './nats-support.js';

const RUN = `co${randomBytes(4).toString('hex')}`;
const P = 8;
const subject = (d: string): string => `telemetry.t1.${d}`;
const telemetry = (deviceId: string, ts: number): BusEvents['telemetry'] => ({ tenantId: 't1', deviceId, points: [{ key: 'n', ts, value: ts }] });

type Change = { readonly gained: readonly number[]; readonly lost: readonly number[] };

/** Ownership set by hand. */
class Owned implements PartitionOwnership {
  private readonly listeners = new Set<(c: Change) => void | Promise<void>>();
  constructor(readonly set: Set<number>) {}
  owned(): Iterable<number> {
    return [...this.set];
  }
  onChange(listener: (c: Change) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async change(c: Change): Promise<void> {
    for (const p of c.lost) this.set.delete(p);
    for (const p of c.gained) this.set.add(p);
    for (const l of this.listeners) await l(c);
  }
}

after(async () => {
  await deleteStreams(RUN);
});

describe('NATS bus: partition ownership', () => {
  it('each member consumes only what it owns; a moved partition goes on at its new owner, held messages included', async () => {
    const prefix = `${RUN}_a`;
    const buses = [await NatsBus.connect({ url: NATS_URL, prefix, partitions: P, ackWaitMs: 2000 }), await NatsBus.connect({ url: NATS_URL, prefix, partitions: P, ackWaitMs: 2000 })] as [NatsBus, NatsBus];
    try {
      const owners = [new Owned(new Set([0, 1, 2, 3])), new Owned(new Set([4, 5, 6, 7]))] as [Owned, Owned];
      const handled: { node: number; device: string; ts: number; position: number | undefined }[] = [];
      const hold = { partition: -1 };
      const held: (() => void)[] = [];
      buses.forEach((bus, node) =>
        bus.subscribe(
          'telemetry',
          'telemetry.>',
          (m, _s, delivery) => {
            handled.push({ node, device: m.deviceId, ts: m.points[0]?.ts ?? -1, position: delivery.position });
            // node 0 keeps messages of one partition unsettled (as a checkpoint not yet committed would)
            if (node === 0 && partitionOf(subject(m.deviceId), P) === hold.partition) return new Promise<void>((resolve) => held.push(resolve));
            return undefined;
          },
          { group: 'rules', ownership: owners[node] },
        ),
      );
      const devices = Array.from({ length: 16 }, (_, i) => `d${i}`);
      const ownerOf = (d: string): number => (owners[0].set.has(partitionOf(subject(d), P)) ? 0 : 1);
      for (let i = 0; i < 160; i++) {
        const d = devices[i % devices.length] as string;
        await (buses[i % 2] as NatsBus).publish('telemetry', subject(d), telemetry(d, i));
      }
      await until(() => handled.length >= 160, 20_000, '160 handled');
      for (const h of handled) assert.equal(h.node, ownerOf(h.device), `${h.device} handled by its partition's owner`);
      assert.ok(handled.every((h) => typeof h.position === 'number' && h.position > 0), 'deliveries carry the stream position');
      for (const d of devices) {
        const order = handled.filter((h) => h.device === d).map((h) => h.ts);
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `${d} in publish order`);
      }

      // node 0 holds partition p's next messages unsettled, then loses p to node 1
      const p = 0;
      const onP = devices.filter((d) => partitionOf(subject(d), P) === p);
      assert.ok(onP.length > 0, 'some device on partition 0');
      hold.partition = p;
      handled.length = 0;
      for (let i = 0; i < 10; i++) await buses[0].publish('telemetry', subject(onP[0] as string), telemetry(onP[0] as string, 1000 + i));
      await until(() => handled.some((h) => h.node === 0), 20_000, 'node 0 holds a message');
      await owners[0].change({ gained: [], lost: [p] });
      await owners[1].change({ gained: [p], lost: [] });
      await until(() => new Set(handled.filter((h) => h.node === 1).map((h) => h.ts)).size === 10, 20_000, 'node 1 handled all 10');
      held.forEach((resolve) => resolve()); // the old owner's late outcome changes nothing
      assert.deepEqual(
        [...new Set(handled.filter((h) => h.node === 1).map((h) => h.ts))].sort((a, b) => a - b),
        Array.from({ length: 10 }, (_, i) => 1000 + i),
      );
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });
});
