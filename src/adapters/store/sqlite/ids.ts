/** Id sequences (IdStore): a block of ids is one upsert, atomic across processes sharing the file. */
import type { IdStore } from '../../../ports.js';
import { checkBlock } from '../actions-shared.js';
import type { Db } from './sql.js';

export function createSqliteIds(db: Db): IdStore {
  // One statement, so one write lock: two stores on the same file never read the same `next`.
  // A block that would pass the maximum starts again at 1 (IdStore.reserveIds).
  const reserve = db
    .prepare<[{ name: string; count: number; max: number }], number>(
      `INSERT INTO id_sequences (name, next) VALUES (@name, 1 + @count)
       ON CONFLICT (name) DO UPDATE SET next = iif(next + @count - 1 > @max, 1 + @count, next + @count)
       RETURNING next - @count`,
    )
    .pluck();
  return {
    async reserveIds(sequence: string, count: number, max: number): Promise<number> {
      checkBlock(count, max);
      return reserve.get({ name: sequence, count, max }) as number;
    },
  };
}
