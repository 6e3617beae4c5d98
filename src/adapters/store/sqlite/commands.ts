/** Commands (server-side RPC) and the durable outbox: persistent commands not yet final. */
import { PlatformError } from '../../../domain/errors.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { CommandQuery, CommandStore, Page, StoredCommand } from '../../../ports.js';
import { jsonText, makeCommand, staleWrite } from '../actions-shared.js';
import { clampLimit } from '../shared.js';
import { bit, isUniqueViolation, type Db } from './sql.js';

interface CommandRow {
  id: string;
  tenant_id: string;
  device_id: string;
  method: string;
  params: string;
  oneway: number;
  persistent: number;
  status: string;
  response: string | null;
  error: string | null;
  retries: number;
  max_retries: number;
  timeout_ms: number;
  origin: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  version: number;
  claimed_by: string | null;
  lease_until: number | null;
}

const COLUMNS =
  'id, tenant_id, device_id, method, params, oneway, persistent, status, response, error, retries, max_retries, timeout_ms, origin, created_at, updated_at, expires_at, version, claimed_by, lease_until';

const toCommand = (r: CommandRow): StoredCommand =>
  makeCommand({
    id: r.id,
    tenantId: r.tenant_id,
    deviceId: r.device_id,
    method: r.method,
    params: JSON.parse(r.params) as JsonValue,
    oneway: r.oneway,
    persistent: r.persistent,
    status: r.status,
    response: r.response === null ? undefined : (JSON.parse(r.response) as JsonValue),
    error: r.error,
    retries: r.retries,
    maxRetries: r.max_retries,
    timeoutMs: r.timeout_ms,
    origin: r.origin,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
    version: r.version,
    claimedBy: r.claimed_by,
    leaseUntil: r.lease_until,
  });

/** Row values in COLUMNS order. */
function values(c: StoredCommand): unknown[] {
  return [
    c.id,
    c.tenantId,
    c.deviceId,
    c.method,
    jsonText(c.params, 'command params'),
    bit(c.oneway),
    bit(c.persistent),
    c.status,
    c.response === undefined ? null : jsonText(c.response, 'command response'),
    c.error ?? null,
    c.retries,
    c.maxRetries,
    c.timeoutMs,
    c.origin ?? null,
    c.createdAt,
    c.updatedAt,
    c.expiresAt,
    c.version,
    c.claimedBy ?? null,
    c.leaseUntil ?? null,
  ];
}

export interface SqliteCommands extends CommandStore {
  /** Removes the device's commands (inside the caller's transaction). */
  deleteDevice(deviceId: string): void;
}

export function createSqliteCommands(db: Db): SqliteCommands {
  const names = COLUMNS.split(', ');
  const s = {
    insert: db.prepare(`INSERT INTO commands (${COLUMNS}) VALUES (${names.map(() => '?').join(', ')})`),
    update: db.prepare(`UPDATE commands SET ${names.slice(1).map((n) => `${n} = ?`).join(', ')} WHERE id = ? AND version = ?`),
    exists: db.prepare<[string], number>('SELECT 1 FROM commands WHERE id = ?').pluck(),
    get: db.prepare<[string], CommandRow>(`SELECT ${COLUMNS} FROM commands WHERE id = ?`),
    // The WHERE terms repeat the commands_pending index's own, so SQLite uses that partial index.
    pendingAll: db.prepare<[], CommandRow>(
      `SELECT ${COLUMNS} FROM commands WHERE persistent = 1 AND status IN ('QUEUED', 'SENT', 'DELIVERED') ORDER BY created_at, rowid`,
    ),
    pendingOf: db.prepare<[string], CommandRow>(
      `SELECT ${COLUMNS} FROM commands WHERE device_id = ? AND persistent = 1 AND status IN ('QUEUED', 'SENT', 'DELIVERED') ORDER BY created_at, rowid`,
    ),
    removeDevice: db.prepare('DELETE FROM commands WHERE device_id = ?'),
  };

  return {
    async insertCommand(command: StoredCommand): Promise<void> {
      const c = makeCommand(command);
      try {
        s.insert.run(...values(c));
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `command ${c.id}`, { cause: err });
        throw err;
      }
    },

    async updateCommand(command: StoredCommand): Promise<void> {
      const c = makeCommand(command);
      const [id, ...rest] = values(c);
      // Compare-and-set (CommandStore.updateCommand): only over the version the writer read.
      if (s.update.run(...rest, id, c.version - 1).changes === 0) {
        throw s.exists.get(c.id) === undefined ? new PlatformError('COMMAND_NOT_FOUND', c.id) : staleWrite('command', c.id);
      }
    },

    async getCommand(id: string): Promise<StoredCommand | undefined> {
      const r = s.get.get(id);
      return r && toCommand(r);
    },

    async listCommands(q: CommandQuery): Promise<Page<StoredCommand>> {
      // Built from fixed fragments; every value is a bound parameter.
      const where = ['tenant_id = ?'];
      const params: unknown[] = [q.tenantId];
      if (q.deviceId !== undefined) {
        where.push('device_id = ?');
        params.push(q.deviceId);
      }
      if (q.deviceIds !== undefined) {
        where.push('device_id IN (SELECT value FROM json_each(?))');
        params.push(JSON.stringify(q.deviceIds));
      }
      if (q.statuses !== undefined) {
        where.push(`status IN (${q.statuses.map(() => '?').join(', ') || 'NULL'})`);
        params.push(...q.statuses);
      }
      const clause = where.join(' AND ');
      const total = db.prepare(`SELECT count(*) FROM commands WHERE ${clause}`).pluck().get(...params) as number;
      const rows = db
        .prepare<unknown[], CommandRow>(`SELECT ${COLUMNS} FROM commands WHERE ${clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
        .all(...params, clampLimit(q.limit), clampLimit(q.offset));
      return { items: rows.map(toCommand), total };
    },

    async pendingCommands(deviceId?: string): Promise<StoredCommand[]> {
      const rows = deviceId === undefined ? s.pendingAll.all() : s.pendingOf.all(deviceId);
      return rows.map(toCommand);
    },

    deleteDevice(deviceId: string): void {
      s.removeDevice.run(deviceId);
    },
  };
}
