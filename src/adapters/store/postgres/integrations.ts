/**
 * Integrations: definitions and each one's durable export buffer (the persisted cursor: a record
 * leaves only once the remote acknowledged it). Bounded per integration, the oldest go first.
 * The next seq is taken from the table inside the transaction (under a row lock on the
 * integration), so several nodes appending to one buffer never collide.
 */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { IntegrationStore } from '../../../ports.js';
import { toExportRecord, toIntegration, type ExportRow, type IntegrationRow } from '../rows/integrations.js';
import { all, inTx, isUniqueViolation, one, run } from './db.js';

const COLUMNS = 'id, tenant_id, type, name, enabled, config, filter, created_at, updated_at';

export function createPgIntegrations(pool: pg.Pool): IntegrationStore {
  return {
    async listIntegrations(tenantId) {
      const rows =
        tenantId === undefined
          ? await all<IntegrationRow>(pool, `SELECT ${COLUMNS} FROM integrations ORDER BY tenant_id COLLATE "C", name COLLATE "C"`)
          : await all<IntegrationRow>(pool, `SELECT ${COLUMNS} FROM integrations WHERE tenant_id = $1 ORDER BY name COLLATE "C"`, [tenantId]);
      return rows.map(toIntegration);
    },
    async getIntegration(id) {
      const r = await one<IntegrationRow>(pool, `SELECT ${COLUMNS} FROM integrations WHERE id = $1`, [id]);
      return r && toIntegration(r);
    },
    async insertIntegration(i) {
      try {
        await pool.query(`INSERT INTO integrations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
          i.id, i.tenantId, i.type, i.name, i.enabled, JSON.stringify(i.config), JSON.stringify(i.filter), i.createdAt, i.updatedAt,
        ]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `an integration named ${i.name} exists`, { cause: err });
        throw err;
      }
    },
    async deleteIntegration(id) {
      // The buffer goes by ON DELETE CASCADE.
      return (await run(pool, 'DELETE FROM integrations WHERE id = $1', [id])) > 0;
    },
    async enqueueExports(id, records, max) {
      if (records.length === 0) return 0;
      return inTx(pool, async (c) => {
        // Serializes appenders of this integration; a deleted integration has nothing to append to.
        if (!(await one(c, 'SELECT 1 FROM integrations WHERE id = $1 FOR UPDATE', [id]))) return 0;
        const first = ((await one<{ seq: number | null }>(c, 'SELECT max(seq) AS seq FROM integration_exports WHERE integration_id = $1', [id]))?.seq ?? 0) + 1;
        await c.query(
          `INSERT INTO integration_exports (integration_id, seq, event, tenant_id, device_id, device_name, ts, enqueued_at, payload)
           SELECT $1, $2::bigint + o - 1, e, t, d, n, ts, q, p
           FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[])
             WITH ORDINALITY AS x (e, t, d, n, ts, q, p, o)`,
          [
            id,
            first,
            records.map((r) => r.event),
            records.map((r) => r.tenantId),
            records.map((r) => r.deviceId),
            records.map((r) => r.deviceName),
            records.map((r) => r.ts),
            records.map((r) => r.enqueuedAt),
            records.map((r) => r.payload),
          ],
        );
        const n = (await one<{ n: number }>(c, 'SELECT count(*) AS n FROM integration_exports WHERE integration_id = $1', [id]))?.n ?? 0;
        if (n <= max) return 0;
        await c.query(
          `DELETE FROM integration_exports WHERE integration_id = $1
             AND seq IN (SELECT seq FROM integration_exports WHERE integration_id = $1 ORDER BY seq LIMIT $2)`,
          [id, n - max],
        );
        return n - max;
      });
    },
    async readExports(id, limit) {
      return (await all<ExportRow>(pool, 'SELECT * FROM integration_exports WHERE integration_id = $1 ORDER BY seq LIMIT $2', [id, limit])).map(toExportRecord);
    },
    async ackExports(id, upto) {
      await pool.query('DELETE FROM integration_exports WHERE integration_id = $1 AND seq <= $2', [id, upto]);
    },
    async exportBacklog(id) {
      const r = await one<{ n: number; oldest: number | null }>(
        pool,
        'SELECT count(*) AS n, min(enqueued_at) AS oldest FROM integration_exports WHERE integration_id = $1',
        [id],
      );
      return { count: r?.n ?? 0, oldestEnqueuedAt: r?.oldest ?? undefined };
    },
  };
}
