/**
 * Integer ids unique across the cluster, for the RPC request id on the wire.
 *
 * The ThingsBoard device API puts the request id in the topic (`v1/devices/me/rpc/request/{id}`)
 * and firmware echoes it back, often parsed into a signed 32-bit int: the id must stay a small
 * positive integer, so a UUID or a node-prefixed 64-bit id is out. Two designs fit:
 *  - node-index-prefixed counters (e.g. 8 bits of node index, 23 of counter): needs every node to
 *    hold a distinct small index, another thing to coordinate and to get wrong on restart, and
 *    wraps after 8M ids per node;
 *  - hi/lo blocks from the Store (chosen): a node reserves BLOCK ids with one atomic store write
 *    (a SQLite upsert now, a PostgreSQL sequence `INCREMENT BY` later) and numbers from the block
 *    in memory. No node index to assign, one write per BLOCK ids, the whole 31-bit range shared.
 * Ids wrap to 1 past 2^31 - 1, so they are unique among ids in use, which is what matching a
 * reply (`device/requestId`) needs. A node that restarts abandons the rest of its block.
 */
import type { IdStore } from '../ports.js';

/** The largest id older firmware parses (int32). */
export const MAX_WIRE_ID = 2 ** 31 - 1;
/** The sequence RPC request ids (and so command request ids) come from. */
export const RPC_ID_SEQUENCE = 'rpc';
/** Ids reserved per store write. */
export const ID_BLOCK = 1000;

export class IdAllocator {
  private next = 0;
  private end = 0;
  /** The reservation in progress: concurrent callers share it instead of each writing. */
  private reserving: Promise<void> | undefined;

  constructor(
    private readonly store: IdStore,
    private readonly sequence: string,
    private readonly block = ID_BLOCK,
    private readonly max = MAX_WIRE_ID,
  ) {}

  /** The next id, from the block in hand when it has one left (no store work). */
  async nextId(): Promise<number> {
    while (this.next >= this.end) {
      this.reserving ??= this.reserve().finally(() => (this.reserving = undefined));
      await this.reserving;
    }
    return this.next++;
  }

  private async reserve(): Promise<void> {
    const first = await this.store.reserveIds(this.sequence, this.block, this.max);
    this.next = first;
    this.end = first + this.block;
  }
}
