/**
 * The connection pool of the PostgreSQL store and the helpers every part shares: transactions,
 * constraint-error tests and numeric parsing. Numbers: bigint columns hold epoch milliseconds and
 * counters, all within Number.MAX_SAFE_INTEGER, so they are read as JS numbers, per pool (the
 * global pg type registry stays untouched for other users of `pg` in the process).
 */
import pg from 'pg';

export type Queryable = pg.Pool | pg.PoolClient;

export interface PgOptions {
  readonly url: string;
  readonly poolSize: number;
  /** Applied to every connection (SET statement_timeout), so a stuck query fails instead of holding a connection. */
  readonly statementTimeoutMs: number;
  /** Tables live in this schema (search_path): several stores (tests, clusters) can share one database. */
  readonly schema?: string;
}

const INT8 = 20;
const NUMERIC = 1700;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
} as pg.CustomTypesConfig;

/** Double-quoted identifier (a schema name from config). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function createPool(opts: PgOptions): pg.Pool {
  const options = [`-c statement_timeout=${Math.max(0, Math.trunc(opts.statementTimeoutMs))}`];
  if (opts.schema) options.push(`-c search_path=${opts.schema}`);
  return new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize,
    types,
    // Startup parameters: set once per connection by the server, no extra round trip per checkout.
    options: options.join(' '),
  });
}

/** Runs `fn` in one transaction on one pooled connection; COMMIT has returned when this resolves. */
export async function inTx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // The server may end the connection between two statements (restart, pg_terminate_backend:
  // FATAL 57P01). With no query running, pg reports that as an 'error' event on the client, and
  // an 'error' event nobody hears ends the Node process: listen while the connection is ours.
  // The transaction then fails on its next statement and the broken connection is discarded.
  let lost: Error | undefined;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      lost ??= rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.off('error', onError);
    // release(err) destroys the connection instead of returning it to the pool.
    client.release(lost);
  }
}

/** Runs `fn` in a savepoint of the caller's transaction: a failure rolls back only its writes. */
export async function inSavepoint<T>(c: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await c.query('SAVEPOINT sp');
  try {
    const result = await fn();
    await c.query('RELEASE SAVEPOINT sp');
    return result;
  } catch (err) {
    await c.query('ROLLBACK TO SAVEPOINT sp');
    throw err;
  }
}

interface PgError {
  code?: string;
  constraint?: string;
}

/** SQLSTATE 23505 (unique_violation), optionally only on the named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as PgError | undefined;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** SQLSTATE 23503 (foreign_key_violation). */
export function isForeignKeyViolation(err: unknown, constraint?: string): boolean {
  const e = err as PgError | undefined;
  return e?.code === '23503' && (constraint === undefined || e.constraint === constraint);
}

/** The first row, or undefined. */
export async function one<R extends pg.QueryResultRow>(db: Queryable, sql: string, params: unknown[] = []): Promise<R | undefined> {
  const r = await db.query<R>(sql, params);
  return r.rows[0];
}

export async function all<R extends pg.QueryResultRow>(db: Queryable, sql: string, params: unknown[] = []): Promise<R[]> {
  return (await db.query<R>(sql, params)).rows;
}

/** Rows changed by a write. */
export async function run(db: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  return (await db.query(sql, params)).rowCount ?? 0;
}
