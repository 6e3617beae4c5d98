/**
 * Commands (RPC) and the durable outbox of persistent ones. The whole stored command is one JSON
 * document; the columns beside it are what queries filter and order on. `seq` keeps insertion
 * order among commands of the same millisecond; updates are compare-and-set on `version`.
 */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { CommandQuery, CommandStore, Page, StoredCommand } from '../../../ports.js';
import { jsonText, makeCommand, staleWrite } from '../actions-shared.js';
import { clampLimit } from '../shared.js';
import { all, isUniqueViolation, one, run } from './db.js';

const PENDING = "persistent AND status IN ('QUEUED', 'SENT', 'DELIVERED')";

const toCommand = (r: { doc: string }): StoredCommand => makeCommand(JSON.parse(r.doc) as StoredCommand);

export function createPgCommands(pool: pg.Pool): CommandStore {
  return {
    async insertCommand(command: StoredCommand): Promise<void> {
      const c = makeCommand(command);
      try {
        await pool.query('INSERT INTO commands (id, tenant_id, device_id, doc, status, persistent, created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          c.id,
          c.tenantId,
          c.deviceId,
          jsonText(c, 'command'),
          c.status,
          c.persistent,
          c.createdAt,
          c.version,
        ]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `command ${c.id}`, { cause: err });
        throw err;
      }
    },

    async updateCommand(command: StoredCommand): Promise<void> {
      const c = makeCommand(command);
      // Tenant, device and creation time stay as inserted (they place the command in the lists).
      const changed = await run(pool, 'UPDATE commands SET doc = $2, status = $3, persistent = $4, version = $5 WHERE id = $1 AND version = $5 - 1', [
        c.id,
        jsonText(c, 'command'),
        c.status,
        c.persistent,
        c.version,
      ]);
      if (changed === 0) {
        throw (await one(pool, 'SELECT 1 FROM commands WHERE id = $1', [c.id])) === undefined ? new PlatformError('COMMAND_NOT_FOUND', c.id) : staleWrite('command', c.id);
      }
    },

    async getCommand(id: string): Promise<StoredCommand | undefined> {
      const r = await one<{ doc: string }>(pool, 'SELECT doc FROM commands WHERE id = $1', [id]);
      return r && toCommand(r);
    },

    async listCommands(q: CommandQuery): Promise<Page<StoredCommand>> {
      const params: unknown[] = [q.tenantId];
      const where = ['tenant_id = $1'];
      if (q.deviceId !== undefined) where.push(`device_id = $${params.push(q.deviceId)}`);
      if (q.statuses !== undefined) where.push(`status = ANY($${params.push([...q.statuses])}::text[])`);
      const clause = where.join(' AND ');
      const total = (await one<{ n: number }>(pool, `SELECT count(*) AS n FROM commands WHERE ${clause}`, params))?.n ?? 0;
      const limit = params.push(clampLimit(q.limit));
      const offset = params.push(clampLimit(q.offset));
      const rows = await all<{ doc: string }>(pool, `SELECT doc FROM commands WHERE ${clause} ORDER BY created_at DESC, seq DESC LIMIT $${limit} OFFSET $${offset}`, params);
      return { items: rows.map(toCommand), total };
    },

    async pendingCommands(deviceId?: string): Promise<StoredCommand[]> {
      const rows =
        deviceId === undefined
          ? await all<{ doc: string }>(pool, `SELECT doc FROM commands WHERE ${PENDING} ORDER BY created_at, seq`)
          : await all<{ doc: string }>(pool, `SELECT doc FROM commands WHERE device_id = $1 AND ${PENDING} ORDER BY created_at, seq`, [deviceId]);
      return rows.map(toCommand);
    },
  };
}

/** Inside the store's deleteDevice transaction. */
export async function deleteDeviceCommands(c: pg.PoolClient, deviceId: string): Promise<void> {
  await c.query('DELETE FROM commands WHERE device_id = $1', [deviceId]);
}
