/**
 * Rules (one JSON document per rule, with the columns lists need) and per-(rule, device) state.
 * State rows have no foreign key: a state flush racing a rule deletion must not fail the whole
 * batch, so rows of a rule that is gone are skipped by the insert itself. Tables: schema.ts, version 3.
 */
import type { Rule } from '../../../domain/rules/model.js';
import type { RuleStateRecord, RuleStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import type { Db } from './sql.js';

interface StateRow {
  rule_id: string;
  device_id: string;
  state: string;
  updated_at: number;
}

export type SqliteRules = RuleStore & { deleteDevice(deviceId: string): void };

export function createSqliteRules(db: Db): SqliteRules {
  const s = {
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    upsert: db.prepare(
      `INSERT INTO rules (id, tenant_id, name, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, doc = excluded.doc, updated_at = excluded.updated_at`,
    ),
    get: db.prepare<[string], string>('SELECT doc FROM rules WHERE id = ?').pluck(),
    listTenant: db.prepare<[string], string>('SELECT doc FROM rules WHERE tenant_id = ? ORDER BY name, id').pluck(),
    listAll: db.prepare<[], string>('SELECT doc FROM rules ORDER BY tenant_id, name, id').pluck(),
    delete: db.prepare('DELETE FROM rules WHERE id = ?'),
    deleteStates: db.prepare('DELETE FROM rule_state WHERE rule_id = ?'),
    deleteDeviceStates: db.prepare('DELETE FROM rule_state WHERE device_id = ?'),
    putState: db.prepare(
      `INSERT INTO rule_state (rule_id, device_id, state, updated_at) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM rules WHERE id = ?)
       ON CONFLICT (rule_id, device_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ),
    getState: db.prepare<[string, string], StateRow>('SELECT rule_id, device_id, state, updated_at FROM rule_state WHERE rule_id = ? AND device_id = ?'),
  };
  const deleteTx = db.transaction((id: string): boolean => {
    s.deleteStates.run(id);
    return s.delete.run(id).changes > 0;
  });
  const putStates = db.transaction((states: readonly RuleStateRecord[]) => {
    for (const st of states) s.putState.run(st.ruleId, st.deviceId, st.state, st.updatedAt, st.ruleId);
  });
  const parse = (doc: string): Rule => JSON.parse(doc) as Rule;

  return {
    async saveRule(rule: Rule): Promise<void> {
      checkInt(rule.createdAt, 'createdAt');
      checkInt(rule.updatedAt, 'updatedAt');
      if (!s.tenantExists.get(rule.tenantId)) throw tenantNotFound(rule.tenantId);
      s.upsert.run(rule.id, rule.tenantId, rule.name, JSON.stringify(rule), rule.createdAt, rule.updatedAt);
    },
    async getRule(id: string): Promise<Rule | undefined> {
      const doc = s.get.get(id);
      return doc === undefined ? undefined : parse(doc);
    },
    async listRules(tenantId?: string): Promise<Rule[]> {
      return (tenantId === undefined ? s.listAll.all() : s.listTenant.all(tenantId)).map(parse);
    },
    async deleteRule(id: string): Promise<boolean> {
      return deleteTx(id);
    },
    async saveRuleState(states: readonly RuleStateRecord[]): Promise<void> {
      for (const st of states) checkInt(st.updatedAt, 'updatedAt');
      if (states.length > 0) putStates(states);
    },
    async loadRuleState(ruleId: string, deviceId: string): Promise<RuleStateRecord | undefined> {
      const r = s.getState.get(ruleId, deviceId);
      return r && { ruleId: r.rule_id, deviceId: r.device_id, state: r.state, updatedAt: r.updated_at };
    },
    async deleteRuleState(ruleId: string): Promise<void> {
      s.deleteStates.run(ruleId);
    },
    deleteDevice(deviceId: string): void {
      s.deleteDeviceStates.run(deviceId);
    },
  };
}
