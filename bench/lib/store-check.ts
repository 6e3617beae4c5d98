/**
 * The storage side of the bench, read straight from the platform's SQLite file (read-only,
 * after the platform has stopped): did every acknowledged message arrive (count and checksum
 * per device)? And the storage reference: a raw better-sqlite3 insert loop into a table of the
 * store's layout, same engine, same pragmas.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { CREDENTIAL_KEY_FILE } from '../../src/apps/credential-key.js';
import { TokenHasher } from '../../src/services/registry-credentials.js';

export interface StoreCheck {
  /** Messages acknowledged by the platform (over every run against this data dir). */
  readonly acked: number;
  /** Messages found in the store: pulseCounter rows of the bench's devices. */
  readonly stored: number;
  /** Rows of every key of the bench's devices (3 per message). */
  readonly rows: number;
  readonly checksumAcked: number;
  readonly checksumStored: number;
  /** Devices whose stored count or checksum differs from what was acknowledged. */
  readonly mismatchedDevices: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** Per token: acknowledged messages and the sum of their pulseCounter values. */
export type Expected = Map<string, { acked: number; pulseSum: number }>;

export function addExpected(into: Expected, tokens: readonly string[], perDevice: { acked: number[]; pulseSum: number[] }): void {
  tokens.forEach((token, i) => {
    const e = into.get(token) ?? { acked: 0, pulseSum: 0 };
    e.acked += perDevice.acked[i] ?? 0;
    e.pulseSum += perDevice.pulseSum[i] ?? 0;
    into.set(token, e);
  });
}

// The store keeps a keyed hash of each token (schema v9): the bench hashes its tokens with the
// key file beside the database to find their rows.
const PER_TOKEN = `
  SELECT c.token_hash AS token, count(*) AS rows,
         sum(CASE WHEN k.key = (SELECT id FROM ts_key WHERE key = 'pulseCounter') THEN 1 ELSE 0 END) AS messages,
         sum(CASE WHEN k.key = (SELECT id FROM ts_key WHERE key = 'pulseCounter') THEN k.v ELSE 0 END) AS pulseSum
  FROM ts_kv k
  JOIN ts_device d ON d.id = k.device
  JOIN credentials c ON c.device_id = d.uuid AND c.type = 'ACCESS_TOKEN'
  GROUP BY c.token_hash`;

/**
 * Compares the store with what was acknowledged. A message sent but never acknowledged (its
 * PUBACK lost to a closed connection) may be stored: `extraAllowed` is how many such there were.
 */
export function checkStore(file: string, expected: Expected, extraAllowed: number): StoreCheck {
  let acked = 0;
  let checksumAcked = 0;
  for (const e of expected.values()) {
    acked += e.acked;
    checksumAcked += e.pulseSum;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const hasher = new TokenHasher(Buffer.from(readFileSync(join(dirname(file), CREDENTIAL_KEY_FILE), 'utf8').trim(), 'base64'));
    const byHash = new Map([...expected.entries()].map(([token, e]) => [hasher.digest(token), e]));
    const found = db.prepare(PER_TOKEN).all() as { token: string; rows: number; messages: number; pulseSum: number }[];
    let stored = 0;
    let rows = 0;
    let checksumStored = 0;
    let mismatchedDevices = 0;
    for (const f of found) {
      const e = byHash.get(f.token);
      if (!e) continue;
      stored += f.messages;
      rows += f.rows;
      checksumStored += f.pulseSum;
      if (f.messages !== e.acked || f.pulseSum !== e.pulseSum) mismatchedDevices++;
    }
    const foundHashes = new Set(found.map((f) => f.token));
    const missing = [...byHash.entries()].filter(([h, e]) => e.acked > 0 && !foundHashes.has(h)).length;
    mismatchedDevices += missing;
    const exact = stored === acked && checksumStored === checksumAcked && mismatchedDevices === 0;
    const ok = exact || (stored >= acked && stored - acked <= extraAllowed && rows === stored * 3);
    return { acked, stored, rows, checksumAcked, checksumStored, mismatchedDevices, ok };
  } catch (err) {
    const error = `store check failed (schema changed?): ${(err as Error).message}`;
    return { acked, stored: 0, rows: 0, checksumAcked, checksumStored: 0, mismatchedDevices: 0, ok: false, error };
  } finally {
    db?.close();
  }
}

/** Raw insert loop: the same rows a meter fleet produces, batches of `batch`, the store's layout and pragmas. */
export function rawInsertRate(file: string, rows: number, batch = 10_000): { rowsPerS: number; seconds: number } {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('cache_size = -65536');
    db.exec('CREATE TABLE ts_kv (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, t INTEGER NOT NULL, v ANY NOT NULL, PRIMARY KEY (device, key, ts)) STRICT, WITHOUT ROWID');
    const insert = db.prepare('INSERT OR REPLACE INTO ts_kv (device, key, ts, t, v) VALUES (?, ?, ?, 0, ?)');
    const devices = 1000;
    const tx = db.transaction((from: number, to: number) => {
      for (let r = from; r < to; r++) {
        const message = Math.floor(r / 3);
        insert.run(message % devices, r % 3, 1_700_000_000_000 + Math.floor(message / devices), message);
      }
    });
    const started = performance.now();
    for (let from = 0; from < rows; from += batch) tx(from, Math.min(rows, from + batch));
    const seconds = (performance.now() - started) / 1000;
    return { rowsPerS: rows / seconds, seconds };
  } finally {
    db.close();
  }
}
