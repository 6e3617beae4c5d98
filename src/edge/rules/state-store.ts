/**
 * Local rule state on disk: one small row per (rule, device) holding the domain RuleState
 * (active/fired, `trueSince` of a `for` timer, windows) as JSON, written on every change and
 * read back at start, so an edge restart neither fires a held condition a second time nor
 * forgets how long it has held.
 *
 * Each row also keeps a fingerprint of the rule's definition: a rule whose condition or actions
 * changed (a push from the platform, an edited file) starts from a fresh state rather than from
 * one computed by different code. Rows of rules that no longer exist are removed when a rule
 * set is loaded.
 *
 * Own file (edge-rules.db) rather than the reading buffer: the buffer exists only with a
 * platform, rule state matters most without one (--offline). WAL + synchronous=NORMAL: a
 * committed row survives a process kill, at a cost of a few microseconds per write.
 */
import Database from 'better-sqlite3';
import { deserializeState, serializeState, type RuleState } from '../../domain/rules/state.js';
import type { EdgeLogger } from '../ports.js';

export interface StoredRule {
  /** Stable name of the rule in the rule set (its name, `#n` for a repeated name). */
  readonly key: string;
  /** Fingerprint of the rule definition the state belongs to. */
  readonly def: string;
}

export class RuleStateStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly selectRule: Database.Statement;
  private readonly pruneTx: (keep: readonly StoredRule[]) => number;
  private failed = false;

  constructor(
    file: string,
    private readonly logger: EdgeLogger,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS rule_state (
        rule TEXT NOT NULL,
        device TEXT NOT NULL,
        def TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (rule, device)
      ) WITHOUT ROWID;
    `);
    this.upsert = this.db.prepare(
      'INSERT INTO rule_state (rule, device, def, state, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule, device) DO UPDATE SET def = excluded.def, state = excluded.state, updated_at = excluded.updated_at',
    );
    this.selectRule = this.db.prepare('SELECT device, state FROM rule_state WHERE rule = ? AND def = ?');
    const all = this.db.prepare('SELECT rule, def FROM rule_state');
    const del = this.db.prepare('DELETE FROM rule_state WHERE rule = ? AND def = ?');
    this.pruneTx = this.db.transaction((keep: readonly StoredRule[]) => {
      const wanted = new Set(keep.map((r) => `${r.key}\u0000${r.def}`));
      let removed = 0;
      for (const row of all.all() as { rule: string; def: string }[]) {
        if (!wanted.has(`${row.rule}\u0000${row.def}`)) removed += del.run(row.rule, row.def).changes;
      }
      return removed;
    });
  }

  /** The stored states of one rule by device; states of another definition are not returned. */
  load(rule: StoredRule): Map<string, RuleState> {
    const out = new Map<string, RuleState>();
    for (const row of this.selectRule.all(rule.key, rule.def) as { device: string; state: string }[]) out.set(row.device, deserializeState(row.state));
    return out;
  }

  /** Drops the rows of rules (or definitions) not in `keep`; returns how many went. */
  retain(keep: readonly StoredRule[]): number {
    return this.pruneTx(keep);
  }

  /**
   * Writes one state. A failing disk must not stop the control loop: the rule keeps running
   * from memory and the failure is logged once.
   */
  save(rule: StoredRule, device: string, state: RuleState): void {
    try {
      this.upsert.run(rule.key, device, rule.def, serializeState(state), Date.now());
    } catch (err) {
      if (this.failed) return;
      this.failed = true;
      this.logger.error({ rule: rule.key, device, err: err instanceof Error ? err.message : String(err) }, 'cannot persist local rule state; continuing from memory');
    }
  }

  close(): void {
    this.db.close();
  }
}
