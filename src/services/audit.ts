/**
 * The audit trail: who did what, to what, when and from where. Entries are queued and written
 * in one store call per event-loop turn (sign-in storms must not cost a transaction each), and
 * each is also logged, so an operator tailing the log sees them without the API. Details are
 * redacted (anything that looks like a secret) and bounded before they are kept.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../domain/telemetry.js';
import type { AuditEntry, AuditQuery, AuditStore, Clock, Logger, Page } from '../ports.js';

export type AuditRecord = Omit<AuditEntry, 'id' | 'ts' | 'outcome'> & { readonly outcome?: AuditEntry['outcome'] };

export interface AuditDeps {
  readonly store: AuditStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Entries older than this many days are removed (0 keeps them for ever). */
  readonly retentionDays: number;
}

const SECRET_FIELD = /pass(word)?|secret|token|api[-_]?key|credential|authorization|private[-_]?key/i;
const MAX_DEPTH = 6;
const MAX_STRING = 512;
const MAX_ITEMS = 64;
const MAX_DETAILS_BYTES = 8 * 1024;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A copy of `value` with secret-looking fields replaced, long strings cut and depth bounded. */
export function redactForAudit(value: unknown, depth = 0): JsonValue {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => redactForAudit(v, depth + 1));
  if (typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, MAX_ITEMS)) {
      Object.defineProperty(out, k, { value: SECRET_FIELD.test(k) ? '[redacted]' : redactForAudit(v, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return String(value);
}

/** Bounds the stored details: past MAX_DETAILS_BYTES only the top-level field names are kept. */
function boundedDetails(details: JsonValue | undefined): JsonValue | undefined {
  if (details === undefined) return undefined;
  const redacted = redactForAudit(details);
  if (JSON.stringify(redacted).length <= MAX_DETAILS_BYTES) return redacted;
  const fields = typeof redacted === 'object' && redacted !== null && !Array.isArray(redacted) ? Object.keys(redacted) : [];
  return { truncated: true, fields };
}

export class AuditService {
  private queue: AuditEntry[] = [];
  private flushing: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AuditDeps) {}

  /** Queues one entry; it is stored within this event-loop turn's flush. Never throws. */
  record(record: AuditRecord): void {
    const details = boundedDetails(record.details);
    const entry: AuditEntry = {
      ...record,
      id: randomUUID(),
      ts: this.deps.clock.now(),
      outcome: record.outcome ?? 'success',
      ...(details !== undefined ? { details } : {}),
    };
    this.deps.logger.info({ audit: { action: entry.action, outcome: entry.outcome, actor: entry.actor, actorName: entry.actorName, target: entry.targetId, address: entry.address } }, 'audit');
    this.queue.push(entry);
    if (this.queue.length === 1) setImmediate(() => void this.flush());
  }

  /** Writes what is queued; resolves when it is stored (or its failure logged). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.deps.store
      .appendAudit(batch)
      .catch((err: unknown) => this.deps.logger.error({ err, entries: batch.length }, 'audit entries could not be stored'))
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async list(query: AuditQuery): Promise<Page<AuditEntry>> {
    await this.flush(); // a caller reads what it has just caused
    return this.deps.store.listAudit(query);
  }

  /** Starts the hourly retention sweep. */
  start(): void {
    if (this.deps.retentionDays <= 0 || this.pruneTimer) return;
    const prune = (): void => {
      const before = this.deps.clock.now() - this.deps.retentionDays * DAY_MS;
      this.deps.store.pruneAudit(before).then(
        (removed) => removed > 0 && this.deps.logger.info({ removed, retentionDays: this.deps.retentionDays }, 'audit entries past retention removed'),
        (err: unknown) => this.deps.logger.warn({ err }, 'audit retention sweep failed'),
      );
    };
    prune();
    this.pruneTimer = setInterval(prune, PRUNE_EVERY_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    await this.flush();
  }
}
