/**
 * The cluster ports on PostgreSQL (migration 006): node heartbeats, partition leases with a
 * fencing epoch, rule checkpoints and firing keys. Every expiry is computed with the database's
 * `now()`, so the nodes' clocks never matter. Fencing works through the lease row: a checkpoint
 * or a firing locks it and checks (node, epoch); a takeover updates the same row (epoch + 1), so
 * the two serialize and a deposed owner's late write finds the new epoch and writes nothing.
 */
import type pg from 'pg';
import type { ClusterBackend, ClusterMembership, Firing, PartitionLeases, RuleCheckpoints } from '../../../ports.js';
import { all, inTx, one, run } from './db.js';
import { upsertRuleStates } from './rules.js';

const HOLDS = 'SELECT 1 FROM partition_leases WHERE grp = $1 AND partition = $2 AND node_id = $3 AND epoch = $4';

export function createPgCluster(pool: pg.Pool): ClusterBackend {
  const membership: ClusterMembership = {
    async heartbeat(nodeId, ttlMs, info = {}) {
      await pool.query(
        `INSERT INTO cluster_nodes (node_id, info, since, expires_at) VALUES ($1, $2, now(), now() + $3 * interval '1 millisecond')
         ON CONFLICT (node_id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at,
           since = CASE WHEN cluster_nodes.expires_at > now() THEN cluster_nodes.since ELSE now() END`,
        [nodeId, JSON.stringify(info), Math.max(1, Math.trunc(ttlMs))],
      );
    },
    async leave(nodeId) {
      await pool.query('DELETE FROM cluster_nodes WHERE node_id = $1', [nodeId]);
    },
    async liveNodes() {
      const rows = await all<{ node_id: string; info: Record<string, string>; since: number }>(
        pool,
        `SELECT node_id, info, (extract(epoch FROM since) * 1000)::bigint AS since FROM cluster_nodes WHERE expires_at > now() ORDER BY node_id COLLATE "C"`,
      );
      return rows.map((r) => ({ nodeId: r.node_id, info: r.info, since: r.since }));
    },
    async reapGone() {
      // DELETE … RETURNING: each gone node is reported to exactly one caller.
      const rows = await all<{ node_id: string }>(pool, 'DELETE FROM cluster_nodes WHERE expires_at <= now() RETURNING node_id');
      return rows.map((r) => r.node_id).sort();
    },
  };

  const leases: PartitionLeases = {
    async acquire(group, partition, nodeId, ttlMs) {
      const r = await one<{ epoch: number }>(
        pool,
        `INSERT INTO partition_leases (grp, partition, node_id, epoch, expires_at) VALUES ($1, $2, $3, 1, now() + $4 * interval '1 millisecond')
         ON CONFLICT (grp, partition) DO UPDATE SET node_id = excluded.node_id, expires_at = excluded.expires_at,
           epoch = CASE WHEN partition_leases.node_id = excluded.node_id THEN partition_leases.epoch ELSE partition_leases.epoch + 1 END
         WHERE partition_leases.node_id IS NULL OR partition_leases.node_id = excluded.node_id OR partition_leases.expires_at <= now()
         RETURNING epoch`,
        [group, partition, nodeId, Math.max(1, Math.trunc(ttlMs))],
      );
      return r?.epoch;
    },
    async renew(group, held, nodeId, ttlMs) {
      if (held.size === 0) return [];
      const rows = await all<{ partition: number }>(
        pool,
        `UPDATE partition_leases SET expires_at = now() + $3 * interval '1 millisecond'
         WHERE grp = $1 AND node_id = $2 AND (partition, epoch) IN (SELECT * FROM unnest($4::int[], $5::bigint[]))
         RETURNING partition`,
        [group, nodeId, Math.max(1, Math.trunc(ttlMs)), [...held.keys()], [...held.values()]],
      );
      return rows.map((r) => r.partition).sort((a, b) => a - b);
    },
    async release(group, partition, nodeId, epoch) {
      await pool.query('UPDATE partition_leases SET node_id = NULL WHERE grp = $1 AND partition = $2 AND node_id = $3 AND epoch = $4', [group, partition, nodeId, epoch]);
    },
    async owners(group) {
      const rows = await all<{ partition: number; node_id: string; epoch: number; expired: boolean }>(
        pool,
        'SELECT partition, node_id, epoch, expires_at <= now() AS expired FROM partition_leases WHERE grp = $1 AND node_id IS NOT NULL ORDER BY partition',
        [group],
      );
      return rows.map((r) => ({ partition: r.partition, nodeId: r.node_id, epoch: r.epoch, expired: r.expired }));
    },
  };

  const checkpoints: RuleCheckpoints = {
    commit(group, nodeId, cp) {
      return inTx(pool, async (c) => {
        // FOR UPDATE: a takeover (acquire's UPDATE of this row) waits for this transaction, or wins first and fences it.
        if ((await run(c, `${HOLDS} FOR UPDATE`, [group, cp.partition, nodeId, cp.epoch])) === 0) return false;
        await upsertRuleStates(c, cp.states);
        await c.query(
          `INSERT INTO partition_checkpoints (grp, partition, positions, epoch, updated_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (grp, partition) DO UPDATE SET positions = partition_checkpoints.positions || excluded.positions, epoch = excluded.epoch, updated_at = now()`,
          [group, cp.partition, JSON.stringify(cp.positions), cp.epoch],
        );
        return true;
      });
    },
    async positions(group, partition) {
      const r = await one<{ positions: Record<string, number> }>(pool, 'SELECT positions FROM partition_checkpoints WHERE grp = $1 AND partition = $2', [group, partition]);
      return r?.positions ?? {};
    },
    async recordFiring(group, partition, nodeId, epoch, firing: Firing) {
      const { key } = firing;
      // One statement: the lease check (FOR SHARE, fencing) and the insert are atomic; the primary key makes the firing unique.
      const n = await run(
        pool,
        `INSERT INTO rule_firings (rule_id, device_id, edge, ts, grp, partition, epoch, payload)
         SELECT $5, $6, $7, $8, $1, $2, $4, $9 WHERE EXISTS (${HOLDS} FOR SHARE)
         ON CONFLICT (rule_id, device_id, edge, ts) DO NOTHING`,
        [group, partition, nodeId, epoch, key.ruleId, key.deviceId, key.edge, key.ts, firing.payload],
      );
      return n > 0;
    },
    async markDispatched(key) {
      await pool.query('UPDATE rule_firings SET dispatched = true WHERE rule_id = $1 AND device_id = $2 AND edge = $3 AND ts = $4', [key.ruleId, key.deviceId, key.edge, key.ts]);
    },
    async undispatched(group, partition) {
      const rows = await all<{ rule_id: string; device_id: string; edge: string; ts: number; payload: string }>(
        pool,
        'SELECT rule_id, device_id, edge, ts, payload FROM rule_firings WHERE grp = $1 AND partition = $2 AND NOT dispatched ORDER BY ts, recorded_at',
        [group, partition],
      );
      return rows.map((r) => ({ key: { ruleId: r.rule_id, deviceId: r.device_id, edge: r.edge, ts: r.ts }, payload: r.payload }));
    },
    async pruneFirings(before) {
      return run(pool, 'DELETE FROM rule_firings WHERE recorded_at < to_timestamp($1 / 1000.0)', [before]);
    },
  };

  return { membership, leases, checkpoints };
}
