/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { JsonValue } from '../../../domain/telemetry.js';
import type { AuditEntry } from '../../../ports.js';

export interface AuditRow {
  id: string;
  ts: number;
  tenant_id: string;
  actor: string;
  actor_name: string | null;
  action: string;
  outcome: string;
  target_type: string | null;
  target_id: string | null;
  address: string | null;
  details: string | null;
}

export const AUDIT_COLUMNS = 'id, ts, tenant_id, actor, actor_name, action, outcome, target_type, target_id, address, details';

export const toAuditEntry = (r: AuditRow): AuditEntry => ({
  id: r.id,
  ts: r.ts,
  tenantId: r.tenant_id,
  actor: r.actor,
  action: r.action,
  outcome: r.outcome as AuditEntry['outcome'],
  ...(r.actor_name !== null ? { actorName: r.actor_name } : {}),
  ...(r.target_type !== null ? { targetType: r.target_type } : {}),
  ...(r.target_id !== null ? { targetId: r.target_id } : {}),
  ...(r.address !== null ? { address: r.address } : {}),
  ...(r.details !== null ? { details: JSON.parse(r.details) as JsonValue } : {}),
});
