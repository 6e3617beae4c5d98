/** In-memory id sequences (IdStore); the same blocks as the SQLite part. */
import type { IdStore } from '../../../ports.js';
import { checkBlock } from '../actions-shared.js';

export function createMemoryIds(): IdStore {
  /** Sequence → the first id not yet reserved. */
  const sequences = new Map<string, number>();
  return {
    async reserveIds(sequence: string, count: number, max: number): Promise<number> {
      checkBlock(count, max);
      const next = sequences.get(sequence) ?? 1;
      const first = next + count - 1 > max ? 1 : next;
      sequences.set(sequence, first + count);
      return first;
    },
  };
}
