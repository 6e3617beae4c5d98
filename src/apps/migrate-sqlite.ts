/**
 * `continuum migrate --from-sqlite DIR --to-postgres URL` (issue 14, "Operations"): everything a
 * single node's data dir holds, copied into an empty PostgreSQL store, then counted on both sides.
 *
 * How: tables whose columns the two schemas share (users, tenants, devices, credentials,
 * attributes, alarms, rules, rule state, audit, …) are copied row for row in batches
 * (adapters/store/sqlite/export.ts → adapters/store/postgres/import.ts): ids, sequence numbers,
 * timestamps and token hashes stay exactly as they were, which the Store ports cannot promise (they
 * mint ids and times). Telemetry (raw, latest, hourly roll-ups) takes the same path with its keys
 * resolved. The few tables PostgreSQL keeps as one JSON document per row (commands, dashboards,
 * OTA packages and deployments) are read and written through the Store ports, so each store's
 * own mapping is the only one. The MQTT broker's sessions, queued messages and retained messages
 * are not copied: the PostgreSQL deployment does not keep broker state in the database yet.
 *
 * Access tokens are stored as keyed hashes: the credential key (credential.key in the data dir, or
 * auth.credentialKey) must go with the data, or no device authenticates. A node started with the
 * same data dir keeps it; --to-data-dir copies it (and the OTA package files) into a new one.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSqliteExport, type Row, type SqliteExport } from '../adapters/store/sqlite/export.js';
import { openPostgresImport, type PostgresImport } from '../adapters/store/postgres/import.js';
import { createPostgresStore } from '../adapters/store/postgres/index.js';
import type { Logger, Store } from '../ports.js';
import { tokenHint, TokenHasher } from '../services/registry.js';
import { CREDENTIAL_KEY_FILE } from './credential-key.js';
import { DATABASE_FILE, openDataDir, secureDataDir } from './data-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import { CREDENTIAL_KEY_BYTES } from '../services/registry-credentials.js';

export class MigrateError extends Error {
  override name = 'MigrateError';
}

export interface MigrateOptions {
  readonly fromDir: string;
  readonly toUrl: string;
  /** Empty a target that holds data instead of refusing. */
  readonly force: boolean;
  readonly batchSize: number;
  /** A new node's data dir: receives the credential key and the OTA package files. */
  readonly toDataDir?: string;
  /** auth.credentialKey (base64) when the source keeps its key outside the data dir. */
  readonly credentialKey?: string;
  /** Target schema (tests); default public. */
  readonly schema?: string;
  readonly logger: Logger;
  /** One line of progress for people (stderr of the CLI). */
  readonly progress: (line: string) => void;
}

export interface TableCount {
  readonly table: string;
  readonly source: number;
  readonly target: number;
}

export interface MigrateResult {
  readonly counts: readonly TableCount[];
  readonly ok: boolean;
  /** Source tables deliberately not copied, with why. */
  readonly skipped: readonly string[];
}

/** Copied through the Store ports (PostgreSQL keeps them as JSON documents); the value says how. */
const PORT_TABLES = new Set(['commands', 'dashboards', 'ota_packages', 'ota_deployments', 'ota_deployment_devices']);
/** Source tables with no counterpart in PostgreSQL. */
const NOT_COPIED: Readonly<Record<string, string>> = {
  mqtt_sessions: 'MQTT persistent sessions (PostgreSQL keeps them with the node holding each: clients subscribe again)',
  mqtt_outbound: "MQTT QoS 1/2 messages queued for offline sessions (as above; commands wait in the store's command outbox, which is copied)",
  mqtt_retained: 'MQTT retained messages (as above)',
};
const PROGRESS_EVERY_MS = 1_000;
/** Store-port copies in flight at once. */
const PORT_CONCURRENCY = 16;

function readKey(options: MigrateOptions): Buffer {
  const file = join(options.fromDir, CREDENTIAL_KEY_FILE);
  const text = options.credentialKey ?? (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  if (text === undefined) {
    throw new MigrateError(`no credential key: ${file} is missing (set CONTINUUM_AUTH_CREDENTIAL_KEY if the node kept it elsewhere); without it no device token can be checked`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < CREDENTIAL_KEY_BYTES) throw new MigrateError(`the credential key must be base64 of at least ${CREDENTIAL_KEY_BYTES} bytes`);
  return key;
}

export async function migrateSqliteToPostgres(options: MigrateOptions): Promise<MigrateResult> {
  const fromDir = resolve(options.fromDir);
  const file = join(fromDir, DATABASE_FILE);
  if (!existsSync(file)) throw new MigrateError(`no database in ${fromDir} (expected ${DATABASE_FILE})`);
  const lock = lockDataDir(fromDir); // refuses while a server runs on it: its data would move on under us
  try {
    const key = readKey(options);
    if (options.toDataDir !== undefined) checkKeyDestination(resolve(options.toDataDir), key); // before anything is written
    const tokens = new TokenHasher(key);
    const digest = (token: string): { hash: string; hint: string } => ({ hash: tokens.digest(token), hint: tokenHint(token) });
    // Opened once and closed: brings an older database to the current schema and merges the telemetry log into ts_kv.
    await openDataDir(fromDir, 'NORMAL', options.logger, digest).store.close();
    const sqlite = openDataDir(fromDir, 'NORMAL', options.logger, digest).store;
    const source = openSqliteExport(file);
    let target: Store | undefined;
    let importer: PostgresImport | undefined;
    try {
      if (source.pendingLogRows() > 0) throw new MigrateError(`${source.pendingLogRows()} telemetry rows are still in the log after closing the store; start and stop the node once, then retry`);
      const pg = { url: options.toUrl, poolSize: 4, statementTimeoutMs: 0, ...(options.schema !== undefined ? { schema: options.schema } : {}) };
      target = await createPostgresStore({ ...pg, logger: options.logger }); // applies the migrations
      importer = await openPostgresImport(pg);
      const filled = await importer.nonEmpty();
      if (filled.length > 0 && !options.force) {
        throw new MigrateError(`the target database is not empty (${filled.slice(0, 8).join(', ')}${filled.length > 8 ? ', …' : ''}): migrate into an empty database, or pass --force to empty it first`);
      }
      if (filled.length > 0) {
        options.progress(`emptying the target (--force): ${filled.length} tables held rows`);
        await importer.truncateAll();
      }
      const copy = new Copier(source, importer, sqlite, target, options);
      // Broker state is not carried (NOT_COPIED), also where PostgreSQL has the same tables.
      const targetTables = (await importer.tables()).filter((t) => NOT_COPIED[t] === undefined);
      for (const table of targetTables) await copy.table(table);
      await importer.resetSequences();
      const skipped = source.tables().filter((t) => !targetTables.includes(t) || NOT_COPIED[t] !== undefined).map((t) => `${t}: ${NOT_COPIED[t] ?? 'no such table in PostgreSQL'}`);
      const counts: TableCount[] = [];
      for (const table of targetTables) {
        counts.push({ table, source: source.tables().includes(table) ? source.count(table) : 0, target: await importer.count(table) });
      }
      if (options.toDataDir !== undefined) carryOver(fromDir, resolve(options.toDataDir), options);
      return { counts, ok: counts.every((c) => c.source === c.target), skipped };
    } finally {
      source.close();
      await sqlite.close();
      await importer?.close();
      await target?.close();
    }
  } finally {
    lock.release();
  }
}

/** Copies one table at a time, with a progress line at most every second and one at its end. */
class Copier {
  constructor(
    private readonly source: SqliteExport,
    private readonly importer: PostgresImport,
    private readonly from: Store,
    private readonly to: Store,
    private readonly options: MigrateOptions,
  ) {}

  async table(table: string): Promise<void> {
    if (!this.source.tables().includes(table)) return;
    if (PORT_TABLES.has(table)) return this.throughPorts(table);
    const have = new Set(this.source.columns(table));
    const cols = await this.importer.columns(table);
    const missing = cols.filter((c) => c.required && !have.has(c.name)).map((c) => c.name);
    if (missing.length > 0) throw new MigrateError(`${table}: the source has no ${missing.join(', ')} (a data dir from a newer Continuum?)`);
    const names = cols.filter((c) => have.has(c.name)).map((c) => c.name);
    const selfRefs = await this.importer.selfReferences(table);
    const later: Row[] = [];
    const total = this.source.count(table);
    let done = 0;
    let shown = Date.now();
    for (const batch of this.source.batches(table, this.options.batchSize)) {
      await this.importer.insert(table, names, batch);
      for (const r of batch) if (selfRefs.some((s) => r[s.column] !== null && r[s.column] !== undefined)) later.push(r);
      done += batch.length;
      if (Date.now() - shown >= PROGRESS_EVERY_MS) {
        shown = Date.now();
        this.options.progress(`  ${table}: ${done}/${total}`);
      }
    }
    if (later.length > 0) await this.importer.fillSelfReferences(table, later);
    this.options.progress(`${table}: ${done} rows`);
  }

  /** Tables PostgreSQL keeps as documents: each row read and written by the stores themselves. */
  private async throughPorts(table: string): Promise<void> {
    if (table === 'ota_deployment_devices') return; // with their deployment
    const ids = this.source.ids(table);
    const one = async (id: string): Promise<void> => {
      switch (table) {
        case 'commands': {
          const c = await this.from.getCommand(id);
          if (c) await this.to.insertCommand(c);
          return;
        }
        case 'dashboards': {
          const d = await this.from.getDashboard(id);
          if (!d) return;
          await this.to.saveDashboard(d);
          if (d.customerId !== undefined) await this.to.setDashboardCustomer([d.id], d.customerId);
          return;
        }
        case 'ota_packages': {
          const p = await this.from.getOtaPackage(id);
          if (p) await this.to.insertOtaPackage(p);
          return;
        }
        case 'ota_deployments': {
          const d = await this.from.getOtaDeployment(id);
          if (d) await this.to.insertOtaDeployment(d, await this.from.listOtaDeploymentDevices(id));
          return;
        }
        default:
          throw new MigrateError(`${table}: no port copy`);
      }
    };
    for (let i = 0; i < ids.length; i += PORT_CONCURRENCY) await Promise.all(ids.slice(i, i + PORT_CONCURRENCY).map(one));
    this.options.progress(`${table}: ${ids.length} rows`);
  }
}

/** A data dir that already holds another credential key would start a node no device can authenticate on. */
function checkKeyDestination(toDir: string, key: Buffer): void {
  const keyFile = join(toDir, CREDENTIAL_KEY_FILE);
  if (!existsSync(keyFile)) return;
  if (!Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64').equals(key)) {
    throw new MigrateError(`${keyFile} holds another credential key: remove it (it matches no token of this database) and run again`);
  }
}

/** The credential key and the OTA package files into the data dir of a node that will serve this database. */
function carryOver(fromDir: string, toDir: string, options: MigrateOptions): void {
  secureDataDir(toDir, options.logger);
  const keyText = options.credentialKey ?? readFileSync(join(fromDir, CREDENTIAL_KEY_FILE), 'utf8');
  const keyFile = join(toDir, CREDENTIAL_KEY_FILE);
  // The same key already there (checkKeyDestination ran first) is left as it is.
  if (!existsSync(keyFile)) writeFileSync(keyFile, `${keyText.trim()}\n`, { mode: 0o600, flag: 'wx' });
  const ota = join(fromDir, 'ota');
  if (existsSync(ota)) cpSync(ota, join(toDir, 'ota'), { recursive: true, force: false });
  options.progress(`credential key${existsSync(ota) ? ' and OTA package files' : ''} copied to ${toDir}`);
}
