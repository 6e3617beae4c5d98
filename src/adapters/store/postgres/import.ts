/**
 * Bulk writes into a migrated, empty PostgreSQL store for `continuum migrate --from-sqlite`
 * (the SQLite side is ../sqlite/export.ts). The Store port has no bulk path that keeps ids,
 * sequence numbers and timestamps as they were, so tables whose columns the two schemas share are
 * copied row for row: one `INSERT … SELECT FROM unnest(…)` per batch (one array parameter per
 * column, cast to the column's type), values converted to what the column holds (SQLite keeps
 * booleans as 0/1). Foreign keys stay on: tables go in dependency order, and a column referencing
 * its own table (a device's gateway, a customer's parent) is filled in by a second pass.
 */
import type pg from 'pg';
import { createPool, quoteIdent, type PgOptions } from './db.js';
import { openPartitions, type Partitions } from './partitions.js';

export interface ImportColumn {
  readonly name: string;
  /** information_schema data_type: text, bigint, boolean, double precision, smallint… */
  readonly type: string;
  readonly required: boolean;
}

export interface PostgresImport {
  /** The store's tables (partitions of ts_kv and the migration tool's table left out), parents before children. */
  tables(): Promise<string[]>;
  columns(table: string): Promise<ImportColumn[]>;
  count(table: string): Promise<number>;
  /** Tables holding at least one row (a target must be empty unless --force). */
  nonEmpty(): Promise<string[]>;
  /** Empties every table of the store (--force). */
  truncateAll(): Promise<void>;
  /** Inserts the rows' values of `columns`; self-referencing columns are written by `fillSelfReferences`. */
  insert(table: string, columns: readonly string[], rows: readonly Record<string, unknown>[]): Promise<void>;
  /** The second pass for columns that reference their own table (set after every row exists). */
  selfReferences(table: string): Promise<{ column: string; key: string }[]>;
  fillSelfReferences(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** Moves every identity/serial sequence past the highest value copied. */
  resetSequences(): Promise<void>;
  close(): Promise<void>;
}

const ARRAY_TYPE: Readonly<Record<string, string>> = {
  text: 'text[]',
  'character varying': 'text[]',
  bigint: 'int8[]',
  integer: 'int4[]',
  smallint: 'int2[]',
  boolean: 'bool[]',
  'double precision': 'float8[]',
  real: 'float4[]',
  bytea: 'bytea[]',
  jsonb: 'jsonb[]',
};

function convert(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'boolean') return value === true || value === 1 || value === 1n;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export async function openPostgresImport(opts: PgOptions): Promise<PostgresImport> {
  const pool: pg.Pool = createPool(opts);
  const schema = opts.schema ?? 'public';
  const columnCache = new Map<string, ImportColumn[]>();
  let partitions: Partitions | undefined;

  const columns = async (table: string): Promise<ImportColumn[]> => {
    const cached = columnCache.get(table);
    if (cached) return cached;
    const r = await pool.query<{ name: string; type: string; nullable: string; has_default: boolean }>(
      `SELECT column_name AS name, data_type AS type, is_nullable AS nullable, column_default IS NOT NULL OR is_identity = 'YES' AS has_default
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    );
    const cols = r.rows.map((c) => ({ name: c.name, type: c.type, required: c.nullable === 'NO' && !c.has_default }));
    columnCache.set(table, cols);
    return cols;
  };

  /** (table, referenced table, column) of every single-column foreign key of the schema. */
  const foreignKeys = async (): Promise<{ table: string; ref: string; column: string; refColumn: string }[]> =>
    (
      await pool.query<{ table: string; ref: string; column: string; ref_column: string }>(
        `SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS ref,
                a.attname AS column, ra.attname AS ref_column
         FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND n.nspname = $1`,
        [schema],
      )
    ).rows.map((r) => ({ table: unqualified(r.table), ref: unqualified(r.ref), column: r.column, refColumn: r.ref_column }));

  const tables = async (): Promise<string[]> => {
    const names = (
      await pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'pgmigrations' ORDER BY c.relname`,
        [schema],
      )
    ).rows.map((r) => r.name);
    // Parents first (a depth-first walk of the foreign keys; a table's reference to itself is the second pass's).
    const deps = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
    for (const fk of await foreignKeys()) if (fk.table !== fk.ref) deps.get(fk.table)?.add(fk.ref);
    const ordered: string[] = [];
    const seen = new Set<string>();
    const visit = (n: string): void => {
      if (seen.has(n)) return;
      seen.add(n);
      for (const d of deps.get(n) ?? []) visit(d);
      ordered.push(n);
    };
    names.forEach(visit);
    return ordered;
  };

  const count = async (table: string): Promise<number> =>
    Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(table)}`)).rows[0]?.n ?? 0);

  const selfReferences = async (table: string): Promise<{ column: string; key: string }[]> =>
    (await foreignKeys()).filter((fk) => fk.table === table && fk.ref === table).map((fk) => ({ column: fk.column, key: fk.refColumn }));

  return {
    tables,
    columns,
    count,
    async nonEmpty() {
      const out: string[] = [];
      for (const t of await tables()) if ((await pool.query(`SELECT 1 FROM ${quoteIdent(t)} LIMIT 1`)).rowCount) out.push(t);
      return out;
    },
    async truncateAll() {
      const all = await tables();
      if (all.length > 0) await pool.query(`TRUNCATE ${all.map(quoteIdent).join(', ')} RESTART IDENTITY CASCADE`);
    },
    async insert(table, names, rows) {
      if (rows.length === 0) return;
      const cols = await columns(table);
      const self = new Set((await selfReferences(table)).map((r) => r.column));
      if (table === 'ts_kv') {
        partitions ??= await openPartitions(pool, Date.now);
        await partitions.ensure(rows.map((r) => Number(r.ts)));
      }
      const used = names.map((name) => {
        const col = cols.find((c) => c.name === name);
        if (!col) throw new Error(`${table}.${name}: no such column in PostgreSQL`);
        const arrayType = ARRAY_TYPE[col.type];
        if (!arrayType) throw new Error(`${table}.${name}: column type ${col.type} not supported by the import`);
        return { col, arrayType };
      });
      const params = used.map(({ col }) => rows.map((r) => (self.has(col.name) ? null : convert(r[col.name], col.type))));
      const list = used.map(({ col }) => quoteIdent(col.name)).join(', ');
      const unnest = used.map(({ arrayType }, i) => `$${i + 1}::${arrayType}`).join(', ');
      await pool.query(`INSERT INTO ${quoteIdent(table)} (${list}) SELECT * FROM unnest(${unnest})`, params);
    },
    selfReferences,
    async fillSelfReferences(table, rows) {
      for (const { column, key } of await selfReferences(table)) {
        const set = rows.filter((r) => r[column] !== null && r[column] !== undefined);
        if (set.length === 0) continue;
        await pool.query(
          `UPDATE ${quoteIdent(table)} t SET ${quoteIdent(column)} = u.v FROM unnest($1::text[], $2::text[]) AS u(k, v) WHERE t.${quoteIdent(key)} = u.k`,
          [set.map((r) => String(r[key])), set.map((r) => String(r[column]))],
        );
      }
    },
    async resetSequences() {
      const seqs = await pool.query<{ table: string; column: string; seq: string }>(
        `SELECT c.relname AS table, a.attname AS column, pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS seq
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
           AND pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) IS NOT NULL`,
        [schema],
      );
      for (const s of seqs.rows) {
        // is_called = false with 1 on an empty table: the next value is 1, as on a fresh database.
        await pool.query(
          `SELECT setval($1, COALESCE((SELECT max(${quoteIdent(s.column)}) FROM ${quoteIdent(s.table)}), 1), (SELECT count(*) > 0 FROM ${quoteIdent(s.table)}))`,
          [s.seq],
        );
      }
    },
    close: () => pool.end(),
  };
}

/** `schema.table` or `"schema"."table"` as regclass prints it outside the search path → table. */
function unqualified(name: string): string {
  const last = name.split('.').pop() ?? name;
  return last.replace(/^"|"$/g, '').replace(/""/g, '"');
}
