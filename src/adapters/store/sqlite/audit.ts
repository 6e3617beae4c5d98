/**
 * The audit log in SQLite. The table refuses UPDATE by trigger (migration 7), so an entry, once
 * written, stays as it was; rows leave only through pruneAudit (retention by age).
 */
import type { AuditEntry, AuditQuery, AuditStore, Page } from '../../../ports.js';
import { checkInt, clampLimit } from '../shared.js';
import { AUDIT_COLUMNS, toAuditEntry, type AuditRow } from '../rows/audit.js';
import type { Db } from './sql.js';

/** `auth.` or `POST ` style prefixes match by prefix; anything else is an exact action. */
export function isActionPrefix(action: string): boolean {
  return action.endsWith('.') || action.endsWith(' ');
}

function whereOf(q: AuditQuery): { sql: string; args: (string | number)[] } {
  const parts = ['tenant_id = ?'];
  const args: (string | number)[] = [q.tenantId];
  if (q.action !== undefined) {
    if (isActionPrefix(q.action)) {
      // substr instead of LIKE: no escaping of % and _ in user input.
      parts.push('substr(action, 1, ?) = ?');
      args.push(q.action.length, q.action);
    } else {
      parts.push('action = ?');
      args.push(q.action);
    }
  }
  const equal: [string, string | undefined][] = [
    ['actor', q.actor],
    ['target_id', q.targetId],
    ['outcome', q.outcome],
  ];
  for (const [column, value] of equal) {
    if (value === undefined) continue;
    parts.push(`${column} = ?`);
    args.push(value);
  }
  if (q.from !== undefined) {
    parts.push('ts >= ?');
    args.push(checkInt(q.from, 'from'));
  }
  if (q.to !== undefined) {
    parts.push('ts <= ?');
    args.push(checkInt(q.to, 'to'));
  }
  return { sql: parts.join(' AND '), args };
}

export function createSqliteAudit(db: Db): AuditStore {
  const insert = db.prepare(
    `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (@id, @ts, @tenantId, @actor, @actorName, @action, @outcome, @targetType, @targetId, @address, @details)`,
  );
  const insertAll = db.transaction((entries: readonly AuditEntry[]) => {
    for (const e of entries) {
      insert.run({
        id: e.id,
        ts: checkInt(e.ts, 'ts'),
        tenantId: e.tenantId,
        actor: e.actor,
        actorName: e.actorName ?? null,
        action: e.action,
        outcome: e.outcome,
        targetType: e.targetType ?? null,
        targetId: e.targetId ?? null,
        address: e.address ?? null,
        details: e.details === undefined ? null : JSON.stringify(e.details),
      });
    }
  });
  const prune = db.prepare('DELETE FROM audit_log WHERE ts < ?');

  return {
    async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
      if (entries.length > 0) insertAll(entries);
    },

    async listAudit(q: AuditQuery): Promise<Page<AuditEntry>> {
      const { sql, args } = whereOf(q);
      const total = db.prepare<unknown[], number>(`SELECT count(*) FROM audit_log WHERE ${sql}`).pluck().get(...args) as number;
      const rows = db
        .prepare<unknown[], AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${sql} ORDER BY ts DESC, seq DESC LIMIT ? OFFSET ?`)
        .all(...args, clampLimit(q.limit), checkInt(q.offset, 'offset'));
      return { items: rows.map(toAuditEntry), total };
    },

    async pruneAudit(before: number): Promise<number> {
      return prune.run(checkInt(before, 'before')).changes;
    },
  };
}
