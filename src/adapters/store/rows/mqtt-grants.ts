/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { GrantAction, GrantSubject, MqttGrant } from '../../../domain/mqtt-grants.js';

export interface GrantRow {
  id: string;
  tenant_id: string;
  subject: string;
  actions: string;
  topic: string;
  created_at: number;
}

export const toGrant = (r: GrantRow): MqttGrant => ({
  id: r.id,
  tenantId: r.tenant_id,
  subject: JSON.parse(r.subject) as GrantSubject,
  actions: JSON.parse(r.actions) as GrantAction[],
  topic: r.topic,
  createdAt: r.created_at,
});
