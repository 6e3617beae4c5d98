/** The audit log: appended in one statement per batch, listed newest first, removed only by age (UPDATE is refused by trigger). */
import type pg from 'pg';
import type { AuditEntry, AuditQuery, AuditStore, Page } from '../../../ports.js';
import { checkInt, clampLimit } from '../shared.js';
import { AUDIT_COLUMNS, toAuditEntry, type AuditRow } from '../rows/audit.js';
import { all, one, run } from './db.js';

function where(q: AuditQuery): { sql: string; params: unknown[] } {
  const params: unknown[] = [q.tenantId];
  const parts = ['tenant_id = $1'];
  if (q.action !== undefined) {
    // `auth.` or `POST ` match by prefix (left(), not LIKE: no escaping of % and _), anything else exactly.
    if (q.action.endsWith('.') || q.action.endsWith(' ')) parts.push(`left(action, ${q.action.length}) = $${params.push(q.action)}`);
    else parts.push(`action = $${params.push(q.action)}`);
  }
  if (q.actor !== undefined) parts.push(`actor = $${params.push(q.actor)}`);
  if (q.targetId !== undefined) parts.push(`target_id = $${params.push(q.targetId)}`);
  if (q.outcome !== undefined) parts.push(`outcome = $${params.push(q.outcome)}`);
  if (q.from !== undefined) parts.push(`ts >= $${params.push(checkInt(q.from, 'from'))}`);
  if (q.to !== undefined) parts.push(`ts <= $${params.push(checkInt(q.to, 'to'))}`);
  return { sql: parts.join(' AND '), params };
}

export function createPgAudit(pool: pg.Pool): AuditStore {
  return {
    async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
      if (entries.length === 0) return;
      for (const e of entries) checkInt(e.ts, 'ts');
      const col = <T>(f: (e: AuditEntry) => T): T[] => entries.map(f);
      await pool.query(
        `INSERT INTO audit_log (${AUDIT_COLUMNS})
         SELECT ${AUDIT_COLUMNS} FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
         WITH ORDINALITY AS e (id, ts, tenant_id, actor, actor_name, action, outcome, target_type, target_id, address, details, i) ORDER BY i`,
        [
          col((e) => e.id),
          col((e) => e.ts),
          col((e) => e.tenantId),
          col((e) => e.actor),
          col((e) => e.actorName ?? null),
          col((e) => e.action),
          col((e) => e.outcome),
          col((e) => e.targetType ?? null),
          col((e) => e.targetId ?? null),
          col((e) => e.address ?? null),
          col((e) => (e.details === undefined ? null : JSON.stringify(e.details))),
        ],
      );
    },

    async listAudit(q: AuditQuery): Promise<Page<AuditEntry>> {
      const { sql, params } = where(q);
      const total = (await one<{ n: number }>(pool, `SELECT count(*) AS n FROM audit_log WHERE ${sql}`, params))?.n ?? 0;
      const limit = params.push(clampLimit(q.limit));
      const offset = params.push(clampLimit(q.offset));
      const rows = await all<AuditRow>(pool, `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${sql} ORDER BY ts DESC, seq DESC LIMIT $${limit} OFFSET $${offset}`, params);
      return { items: rows.map(toAuditEntry), total };
    },

    async pruneAudit(before: number): Promise<number> {
      return run(pool, 'DELETE FROM audit_log WHERE ts < $1', [checkInt(before, 'before')]);
    },
  };
}
