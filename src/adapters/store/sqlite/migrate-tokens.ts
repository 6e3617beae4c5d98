/**
 * Schema v9: access tokens stop being stored in clear. The `token` column becomes `token_hash`
 * (HMAC-SHA-256 under the platform's credential key) plus `token_hint`, and `cred_key` (the
 * unique lookup key) holds `token:<hash>`.
 *
 * Why the hashing runs here, inside the migration, and not in the registry at start: the
 * schema version then means one thing. A database at v9 holds no clear token, whatever process
 * opened it; a half-migrated state (new schema, some clear tokens) cannot exist, because the
 * rename and the rewrite of every row commit in one transaction. The key itself never enters the
 * store: the opener passes the hashing function (the registry's) in.
 */
import type { Db } from './sql.js';

/** Turns a clear token into what is stored (RegistryService.tokenDigest). */
export type TokenDigest = (token: string) => { readonly hash: string; readonly hint: string };

export interface MigrationContext {
  /** Needed only when a database with clear access tokens is migrated to v9. */
  readonly tokenDigest?: TokenDigest;
}

interface ClearTokenRow {
  device_id: string;
  token_hash: string | null;
}

export function hashStoredTokens(db: Db, ctx: MigrationContext): void {
  db.exec(`
    ALTER TABLE credentials RENAME COLUMN token TO token_hash;
    ALTER TABLE credentials ADD COLUMN token_hint TEXT;
  `);
  // Zero the cells the rewrite frees, so the clear tokens do not linger in free space of the
  // file (a copy of it must not hand them out); openDatabase checkpoints the WAL afterwards.
  db.pragma('secure_delete = ON');
  try {
    const rows = db.prepare<[], ClearTokenRow>(`SELECT device_id, token_hash FROM credentials WHERE type = 'ACCESS_TOKEN'`).all();
    if (rows.length === 0) return;
    const digest = ctx.tokenDigest;
    if (!digest) throw new Error(`${rows.length} access tokens must be hashed (schema v9) but no credential key was given to the store`);
    const update = db.prepare<[{ deviceId: string; key: string; hash: string; hint: string }]>(
      `UPDATE credentials SET cred_key = @key, token_hash = @hash, token_hint = @hint WHERE device_id = @deviceId AND type = 'ACCESS_TOKEN'`,
    );
    for (const row of rows) {
      const { hash, hint } = digest(row.token_hash ?? '');
      update.run({ deviceId: row.device_id, key: `token:${hash}`, hash, hint });
    }
  } finally {
    db.pragma('secure_delete = OFF');
  }
}
