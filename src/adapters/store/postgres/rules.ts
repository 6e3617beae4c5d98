/**
 * Rules (one JSON document per rule, with the columns lists need), their per-(rule, device)
 * state, and dashboards (one JSON document each, read and written whole).
 */
import type pg from 'pg';
import type { Dashboard } from '../../../domain/dashboard.js';
import type { Rule } from '../../../domain/rules/model.js';
import type { DashboardStore, RuleStateRecord, RuleStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { all, inTx, isForeignKeyViolation, one, run, type Queryable } from './db.js';

export function createPgRules(pool: pg.Pool): RuleStore {
  const parse = (r: { doc: string }): Rule => JSON.parse(r.doc) as Rule;
  return {
    async saveRule(rule: Rule): Promise<void> {
      checkInt(rule.createdAt, 'createdAt');
      checkInt(rule.updatedAt, 'updatedAt');
      try {
        await pool.query(
          `INSERT INTO rules (id, tenant_id, name, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, doc = excluded.doc, updated_at = excluded.updated_at`,
          [rule.id, rule.tenantId, rule.name, JSON.stringify(rule), rule.createdAt, rule.updatedAt],
        );
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(rule.tenantId);
        throw err;
      }
    },
    async getRule(id: string): Promise<Rule | undefined> {
      const r = await one<{ doc: string }>(pool, 'SELECT doc FROM rules WHERE id = $1', [id]);
      return r && parse(r);
    },
    async listRules(tenantId?: string): Promise<Rule[]> {
      const rows =
        tenantId === undefined
          ? await all<{ doc: string }>(pool, 'SELECT doc FROM rules ORDER BY tenant_id COLLATE "C", name COLLATE "C", id COLLATE "C"')
          : await all<{ doc: string }>(pool, 'SELECT doc FROM rules WHERE tenant_id = $1 ORDER BY name COLLATE "C", id COLLATE "C"', [tenantId]);
      return rows.map(parse);
    },
    async deleteRule(id: string): Promise<boolean> {
      return inTx(pool, async (c) => {
        await c.query('DELETE FROM rule_state WHERE rule_id = $1', [id]);
        return ((await c.query('DELETE FROM rules WHERE id = $1', [id])).rowCount ?? 0) > 0;
      });
    },
    async saveRuleState(states: readonly RuleStateRecord[]): Promise<void> {
      for (const st of states) checkInt(st.updatedAt, 'updatedAt');
      if (states.length === 0) return;
      await upsertRuleStates(pool, states);
    },
    async loadRuleState(ruleId: string, deviceId: string): Promise<RuleStateRecord | undefined> {
      const r = await one<{ state: string; updated_at: number }>(pool, 'SELECT state, updated_at FROM rule_state WHERE rule_id = $1 AND device_id = $2', [ruleId, deviceId]);
      return r && { ruleId, deviceId, state: r.state, updatedAt: r.updated_at };
    },
    async deleteRuleState(ruleId: string): Promise<void> {
      await pool.query('DELETE FROM rule_state WHERE rule_id = $1', [ruleId]);
    },
  };
}

/** Writes rule states (also inside a cluster checkpoint's transaction, cluster.ts). */
export async function upsertRuleStates(db: Queryable, states: readonly RuleStateRecord[]): Promise<void> {
  if (states.length === 0) return;
  // Only for rules that still exist: state written after a delete would be orphaned.
  await db.query(
    `INSERT INTO rule_state (rule_id, device_id, state, updated_at)
     SELECT DISTINCT ON (r, d) r, d, s, u FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS x (r, d, s, u, i)
     WHERE EXISTS (SELECT 1 FROM rules WHERE id = r) ORDER BY r, d, i DESC
     ON CONFLICT (rule_id, device_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    [states.map((s) => s.ruleId), states.map((s) => s.deviceId), states.map((s) => s.state), states.map((s) => s.updatedAt)],
  );
}

/** Inside the store's deleteDevice transaction. */
export async function deleteDeviceRuleState(c: pg.PoolClient, deviceId: string): Promise<void> {
  await c.query('DELETE FROM rule_state WHERE device_id = $1', [deviceId]);
}

export function createPgDashboards(pool: pg.Pool): DashboardStore {
  // The assignment is the customer_id column (written only by the customers part): a save never changes it.
  const parse = (r: { doc: string; customer_id: string | null }): Dashboard => {
    const { customerId: _ignored, ...d } = JSON.parse(r.doc) as Dashboard;
    return r.customer_id !== null ? { ...d, customerId: r.customer_id } : d;
  };
  return {
    async saveDashboard(d: Dashboard): Promise<void> {
      checkInt(d.createdAt, 'createdAt');
      checkInt(d.updatedAt, 'updatedAt');
      try {
        await pool.query(
          `INSERT INTO dashboards (id, tenant_id, name, doc, created_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, doc = excluded.doc`,
          [d.id, d.tenantId, d.name, JSON.stringify(d), d.createdAt],
        );
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(d.tenantId);
        throw err;
      }
    },
    async getDashboard(id: string): Promise<Dashboard | undefined> {
      const r = await one<{ doc: string; customer_id: string | null }>(pool, 'SELECT doc, customer_id FROM dashboards WHERE id = $1', [id]);
      return r && parse(r);
    },
    async listDashboards(tenantId: string): Promise<Dashboard[]> {
      return (await all<{ doc: string; customer_id: string | null }>(pool, 'SELECT doc, customer_id FROM dashboards WHERE tenant_id = $1 ORDER BY name COLLATE "C", id COLLATE "C"', [tenantId])).map(parse);
    },
    async deleteDashboard(id: string): Promise<boolean> {
      return (await run(pool, 'DELETE FROM dashboards WHERE id = $1', [id])) > 0;
    },
  };
}
