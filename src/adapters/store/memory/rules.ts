/** Rules and rule state in Maps, with the SQLite store's answers (copies in, copies out). */
import type { Rule } from '../../../domain/rules/model.js';
import type { RuleStateRecord, RuleStore } from '../../../ports.js';
import { checkInt, compareBinary } from '../shared.js';

export type MemoryRules = RuleStore & { deleteDevice(deviceId: string): void };

const copy = (rule: Rule): Rule => JSON.parse(JSON.stringify(rule)) as Rule;

export function createMemoryRules(tenantExists: (id: string) => boolean, tenantNotFound: (id: string) => Error): MemoryRules {
  const rules = new Map<string, Rule>();
  /** ruleId → deviceId → state. */
  const states = new Map<string, Map<string, RuleStateRecord>>();

  return {
    async saveRule(rule: Rule): Promise<void> {
      checkInt(rule.createdAt, 'createdAt');
      checkInt(rule.updatedAt, 'updatedAt');
      if (!tenantExists(rule.tenantId)) throw tenantNotFound(rule.tenantId);
      rules.set(rule.id, copy(rule));
    },
    async getRule(id: string): Promise<Rule | undefined> {
      const r = rules.get(id);
      return r && copy(r);
    },
    async listRules(tenantId?: string): Promise<Rule[]> {
      return [...rules.values()]
        .filter((r) => tenantId === undefined || r.tenantId === tenantId)
        .sort((a, b) => compareBinary(a.tenantId, b.tenantId) || compareBinary(a.name, b.name) || compareBinary(a.id, b.id))
        .map(copy);
    },
    async deleteRule(id: string): Promise<boolean> {
      states.delete(id);
      return rules.delete(id);
    },
    async saveRuleState(list: readonly RuleStateRecord[]): Promise<void> {
      for (const st of list) checkInt(st.updatedAt, 'updatedAt');
      for (const st of list) {
        if (!rules.has(st.ruleId)) continue;
        let byDevice = states.get(st.ruleId);
        if (!byDevice) states.set(st.ruleId, (byDevice = new Map()));
        byDevice.set(st.deviceId, { ...st });
      }
    },
    async loadRuleState(ruleId: string, deviceId: string): Promise<RuleStateRecord | undefined> {
      const st = states.get(ruleId)?.get(deviceId);
      return st && { ...st };
    },
    async deleteRuleState(ruleId: string): Promise<void> {
      states.delete(ruleId);
    },
    deleteDevice(deviceId: string): void {
      for (const byDevice of states.values()) byDevice.delete(deviceId);
    },
  };
}
