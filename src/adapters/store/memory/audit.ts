/** The audit log in an array, with the SQLite store's answers (newest first, prefix filters). */
import type { AuditEntry, AuditQuery, AuditStore, Page } from '../../../ports.js';
import { checkInt, clampLimit } from '../shared.js';

const copy = (e: AuditEntry): AuditEntry => JSON.parse(JSON.stringify(e)) as AuditEntry;

function matches(e: AuditEntry, q: AuditQuery): boolean {
  if (e.tenantId !== q.tenantId) return false;
  if (q.action !== undefined) {
    const prefix = q.action.endsWith('.') || q.action.endsWith(' ');
    if (prefix ? !e.action.startsWith(q.action) : e.action !== q.action) return false;
  }
  if (q.actor !== undefined && e.actor !== q.actor) return false;
  if (q.targetId !== undefined && e.targetId !== q.targetId) return false;
  if (q.outcome !== undefined && e.outcome !== q.outcome) return false;
  if (q.from !== undefined && e.ts < q.from) return false;
  return q.to === undefined || e.ts <= q.to;
}

export function createMemoryAudit(): AuditStore {
  /** In insertion order. */
  let entries: AuditEntry[] = [];
  return {
    async appendAudit(added: readonly AuditEntry[]): Promise<void> {
      for (const e of added) checkInt(e.ts, 'ts');
      entries.push(...added.map(copy));
    },
    async listAudit(q: AuditQuery): Promise<Page<AuditEntry>> {
      const found = entries.filter((e) => matches(e, q));
      // Newest first; among equal ts the later insertion first (as the SQLite store's seq).
      const ordered = found.map((e, i) => ({ e, i })).sort((a, b) => b.e.ts - a.e.ts || b.i - a.i);
      const offset = checkInt(q.offset, 'offset');
      return { items: ordered.slice(offset, offset + clampLimit(q.limit)).map(({ e }) => copy(e)), total: found.length };
    },
    async pruneAudit(before: number): Promise<number> {
      const kept = entries.filter((e) => e.ts >= before);
      const removed = entries.length - kept.length;
      entries = kept;
      return removed;
    },
  };
}
