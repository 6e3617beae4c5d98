/**
 * The children's shared attributes, cached on the edge so local rules read them with `attr()`
 * while the platform is unreachable (docs/EDGE.md "attr() at the edge"). Filled from the gateway
 * API: at every connect the edge asks for each child's shared attributes (the answer is the whole
 * set: keys missing from it were deleted meanwhile), then the platform pushes changes. Kept in
 * `DIR/edge-attributes.db` (SQLite, WAL), so a restart without a platform still has them;
 * `file` '' keeps them in memory only.
 */
import Database from 'better-sqlite3';
import type { JsonValue } from '../../domain/telemetry.js';

export class AttributeCache {
  private readonly db: Database.Database;
  private readonly values = new Map<string, Map<string, JsonValue>>();

  constructor(file: string) {
    this.db = new Database(file === '' ? ':memory:' : file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS shared (device TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (device, key))');
    for (const r of this.db.prepare('SELECT device, key, value FROM shared').all() as { device: string; key: string; value: string }[]) {
      this.device(r.device).set(r.key, JSON.parse(r.value) as JsonValue);
    }
  }

  get(device: string, key: string): JsonValue | undefined {
    return this.values.get(device)?.get(key);
  }

  /**
   * Applies an update (or, `complete`, the whole set) and returns what changed: the new values,
   * and `null` for keys that went — the message an `attributes` rule sees.
   */
  apply(device: string, values: Readonly<Record<string, JsonValue>>, complete: boolean, deleted: readonly string[]): Record<string, JsonValue> {
    const current = this.device(device);
    const changed: Record<string, JsonValue> = {};
    const gone = complete ? [...current.keys()].filter((k) => !Object.hasOwn(values, k)) : deleted.filter((k) => current.has(k));
    const upsert = this.db.prepare('INSERT INTO shared (device, key, value) VALUES (?, ?, ?) ON CONFLICT (device, key) DO UPDATE SET value = excluded.value');
    const remove = this.db.prepare('DELETE FROM shared WHERE device = ? AND key = ?');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(values)) {
        const text = JSON.stringify(v);
        if (current.has(k) && JSON.stringify(current.get(k)) === text) continue;
        current.set(k, v);
        upsert.run(device, k, text);
        Object.defineProperty(changed, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      for (const k of gone) {
        current.delete(k);
        remove.run(device, k);
        Object.defineProperty(changed, k, { value: null, enumerable: true, writable: true, configurable: true });
      }
    })();
    return changed;
  }

  close(): void {
    this.db.close();
  }

  private device(name: string): Map<string, JsonValue> {
    let m = this.values.get(name);
    if (!m) this.values.set(name, (m = new Map()));
    return m;
  }
}
