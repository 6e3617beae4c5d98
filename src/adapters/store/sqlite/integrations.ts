/**
 * Integrations (issue 18): definitions and each one's durable export buffer. The buffer is the
 * persisted cursor: a record leaves it only once the remote acknowledged it, so a restart (or
 * a remote that is away) resumes where the remote stopped taking, at least once. Bounded per
 * integration: past `maxRecords` the oldest go (counted by the service). Migration 17.
 */
import type { NewExportRecord } from '../../../domain/integrations.js';
import { PlatformError } from '../../../domain/errors.js';
import type { IntegrationStore } from '../../../ports.js';
import { toExportRecord, toIntegration, type ExportRow, type IntegrationRow } from '../rows/integrations.js';
import { isUniqueViolation, type Db } from './sql.js';

export const V17_INTEGRATIONS = `
  CREATE TABLE integrations (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    type       TEXT NOT NULL,
    name       TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    config     TEXT NOT NULL,                -- JSON, secrets included (never answered by the API)
    filter     TEXT NOT NULL,                -- JSON ExportFilter
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;

  CREATE TABLE integration_exports (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    event          TEXT NOT NULL,
    tenant_id      TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    device_name    TEXT NOT NULL,
    ts             INTEGER NOT NULL,
    enqueued_at    INTEGER NOT NULL,
    payload        TEXT NOT NULL,
    PRIMARY KEY (integration_id, seq)
  ) STRICT, WITHOUT ROWID;
`;

export function createSqliteIntegrations(db: Db): IntegrationStore {
  const list = db.prepare<[], IntegrationRow>('SELECT * FROM integrations ORDER BY tenant_id, name');
  const listTenant = db.prepare<[string], IntegrationRow>('SELECT * FROM integrations WHERE tenant_id = ? ORDER BY name');
  const get = db.prepare<[string], IntegrationRow>('SELECT * FROM integrations WHERE id = ?');
  const insert = db.prepare(
    'INSERT INTO integrations (id, tenant_id, type, name, enabled, config, filter, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const remove = db.prepare<[string]>('DELETE FROM integrations WHERE id = ?');
  const removeExports = db.prepare<[string]>('DELETE FROM integration_exports WHERE integration_id = ?');
  const lastSeq = db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM integration_exports WHERE integration_id = ?');
  const count = db.prepare<[string], { n: number; oldest: number | null }>(
    'SELECT COUNT(*) AS n, MIN(enqueued_at) AS oldest FROM integration_exports WHERE integration_id = ?',
  );
  const append = db.prepare(
    'INSERT INTO integration_exports (integration_id, seq, event, tenant_id, device_id, device_name, ts, enqueued_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  // The oldest beyond the bound: delete the first n by seq.
  const dropOldest = db.prepare<[string, string, number]>(
    'DELETE FROM integration_exports WHERE integration_id = ? AND seq IN (SELECT seq FROM integration_exports WHERE integration_id = ? ORDER BY seq LIMIT ?)',
  );
  const read = db.prepare<[string, number], ExportRow>('SELECT * FROM integration_exports WHERE integration_id = ? ORDER BY seq LIMIT ?');
  const ack = db.prepare<[string, number]>('DELETE FROM integration_exports WHERE integration_id = ? AND seq <= ?');

  // The next seq per integration, kept in memory after the first read (one writer: this process).
  const nextSeq = new Map<string, number>();
  const enqueueTx = db.transaction((id: string, records: readonly NewExportRecord[], max: number): number => {
    let seq = nextSeq.get(id) ?? (lastSeq.get(id)?.seq ?? 0) + 1;
    for (const r of records) append.run(id, seq++, r.event, r.tenantId, r.deviceId, r.deviceName, r.ts, r.enqueuedAt, r.payload);
    nextSeq.set(id, seq);
    const n = count.get(id)?.n ?? 0;
    if (n <= max) return 0;
    dropOldest.run(id, id, n - max);
    return n - max;
  });
  const deleteTx = db.transaction((id: string): boolean => {
    removeExports.run(id);
    nextSeq.delete(id);
    return remove.run(id).changes > 0;
  });

  return {
    async listIntegrations(tenantId) {
      return (tenantId === undefined ? list.all() : listTenant.all(tenantId)).map(toIntegration);
    },
    async getIntegration(id) {
      const row = get.get(id);
      return row ? toIntegration(row) : undefined;
    },
    async insertIntegration(i) {
      try {
        insert.run(i.id, i.tenantId, i.type, i.name, i.enabled ? 1 : 0, JSON.stringify(i.config), JSON.stringify(i.filter), i.createdAt, i.updatedAt);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `an integration named ${i.name} exists`);
        throw err;
      }
    },
    async deleteIntegration(id) {
      return deleteTx(id);
    },
    async enqueueExports(id, records, max) {
      if (records.length === 0) return 0;
      return enqueueTx(id, records, max);
    },
    async readExports(id, limit) {
      return read.all(id, limit).map(toExportRecord);
    },
    async ackExports(id, upto) {
      ack.run(id, upto);
    },
    async exportBacklog(id) {
      const row = count.get(id);
      return { count: row?.n ?? 0, oldestEnqueuedAt: row?.oldest ?? undefined };
    },
  };
}
