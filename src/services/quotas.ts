/**
 * Per-tenant quotas (issue 15): devices and rules at create, device messages per second and
 * stored points per UTC day at ingest.
 *
 * The ingest path never reads the store: every tenant's limits are cached here (loaded at start,
 * replaced when set through this service) and its state is a few numbers behind one Map lookup:
 * a token bucket for messages (capacity one second's worth, refilled continuously from the
 * clock) and today's count of stored points. Points are counted after their commit, batched per
 * commit, and written to the store's daily counter every `flushIntervalMs` (never per message);
 * a restart reads today's count back, so the day's quota survives it.
 *
 * Refusals throw TENANT_RATE_LIMITED (messages/s: try again after Retry-After) or
 * TENANT_QUOTA_EXCEEDED (devices, rules, points/day), are counted in
 * continuum_quota_rejections_total{tenant,quota} and logged at most once a minute per tenant
 * and quota (with how many were refused since the last line).
 *
 * State is per process: in a cluster each node enforces its own share of the rate (the shared
 * counter belongs to the cluster store, behind the same methods).
 */
import { PlatformError } from '../domain/errors.js';
import { applyQuotaPatch, nextUtcDay, UNLIMITED, utcDay, type QuotaKind, type QuotaLimits, type QuotaPatch } from '../domain/quotas.js';
import type { Clock, Logger, QuotaMetrics, QuotaStore, RegistryStore, RuleStore } from '../ports.js';

export interface QuotaServiceDeps {
  readonly store: QuotaStore & Pick<RegistryStore, 'listDevices'> & Pick<RuleStore, 'listRules'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: QuotaMetrics;
  /** `tenants.defaultQuotas`: the limits of a tenant without its own (unset: unlimited). */
  readonly defaults?: QuotaPatch;
  /** How often counted points are written to the store (default 1 s). */
  readonly flushIntervalMs?: number;
  /** At most one warning line per tenant and quota in this period (default 60 s). */
  readonly warnIntervalMs?: number;
}

interface TenantState {
  limits: QuotaLimits;
  /** Whether the limits are the tenant's own (stored) or the defaults. */
  own: boolean;
  tokens: number;
  refilledAt: number;
  /** Points stored today (committed, whether written to the daily counter yet or not). */
  points: number;
  dayEndsAt: number;
  /** Messages admitted in the current and in the last whole second (the usage gauge). */
  windowStart: number;
  inWindow: number;
  lastSecond: number;
}

/** A tenant's limits and what it uses of them. */
export interface QuotaView {
  readonly tenantId: string;
  readonly limits: QuotaLimits;
  /** True when the limits are the tenant's own, false when they are the configured defaults. */
  readonly custom: boolean;
  readonly usage: { readonly devices: number; readonly rules: number; readonly messagesPerSecond: number; readonly pointsToday: number; readonly day: string };
}

const WINDOW_MS = 1000;

export class QuotaService {
  private readonly defaults: QuotaLimits;
  private readonly tenants = new Map<string, TenantState>();
  /** Points committed since the last flush, by tenant (the day they count for is `pendingDay`). */
  private pending = new Map<string, number>();
  private pendingDay = '';
  private pendingDayEndsAt = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly warned = new Map<string, { at: number; suppressed: number }>();
  /** Creations of devices/rules in flight per tenant and kind: one at a time, so concurrent ones cannot pass a cap together. */
  private readonly serial = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: QuotaServiceDeps) {
    this.defaults = applyQuotaPatch(UNLIMITED, deps.defaults ?? {});
    deps.metrics?.usage(() => this.usageSamples());
  }

  /** Loads every tenant's own limits and today's counts, then writes counts periodically. */
  async start(): Promise<void> {
    const now = this.deps.clock.now();
    for (const { tenantId, limits } of await this.deps.store.listTenantQuotas()) {
      this.stateOf(tenantId, now).own = true;
      this.setLimits(tenantId, limits, now);
    }
    for (const [tenantId, points] of await this.deps.store.pointsUsage(utcDay(now))) this.stateOf(tenantId, now).points += points;
    this.timer = setInterval(() => void this.flush(), this.deps.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Writes what is counted; used at shutdown (after the last commit). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  // ------------------------------------------------------------ ingest (O(1), no store read)

  /**
   * Admits one device message of the tenant (`rate`: counts against messages/s; platform-made
   * points do not) or throws. Refused once today's stored points reached the daily quota.
   */
  admit(tenantId: string, rate: boolean): void {
    const now = this.deps.clock.now();
    const s = this.stateOf(tenantId, now);
    if (now >= s.dayEndsAt) this.newDay(s, now);
    const { maxPointsPerDay, maxMessagesPerSecond } = s.limits;
    if (maxPointsPerDay !== null && s.points >= maxPointsPerDay) {
      const retry = Math.ceil((s.dayEndsAt - now) / 1000);
      throw this.refuse(tenantId, 'pointsPerDay', `${s.points} points stored today, the tenant may store ${maxPointsPerDay} a day; more are taken from 00:00 UTC`, { points: s.points, maxPointsPerDay }, retry);
    }
    if (!rate) return;
    if (maxMessagesPerSecond !== null) {
      s.tokens = Math.min(Math.max(1, maxMessagesPerSecond), s.tokens + ((now - s.refilledAt) * maxMessagesPerSecond) / 1000);
      s.refilledAt = now;
      if (s.tokens < 1) throw this.refuse(tenantId, 'messagesPerSecond', `the tenant may send ${maxMessagesPerSecond} messages a second`, { maxMessagesPerSecond }, 1);
      s.tokens -= 1;
    }
    if (now - s.windowStart >= WINDOW_MS) {
      s.lastSecond = now - s.windowStart >= 2 * WINDOW_MS ? 0 : s.inWindow;
      s.inWindow = 0;
      s.windowStart = now;
    }
    s.inWindow += 1;
  }

  /** Counts points a commit stored (called once per commit, with every message's tenant). */
  committed(tenantId: string, points: number): void {
    const now = this.deps.clock.now();
    const s = this.stateOf(tenantId, now);
    if (now >= s.dayEndsAt) this.newDay(s, now);
    s.points += points;
    // Compared as the day's end (a number): formatting the day's name costs more than the rest of the call.
    if (s.dayEndsAt !== this.pendingDayEndsAt) {
      // A new day: what is pending belongs to the old one and is written under it first.
      if (this.pending.size > 0) void this.flush();
      this.pendingDayEndsAt = s.dayEndsAt;
      this.pendingDay = utcDay(s.dayEndsAt - 1);
    }
    this.pending.set(tenantId, (this.pending.get(tenantId) ?? 0) + points);
  }

  // ------------------------------------------------------------ creations

  /** Runs `create` (which adds `count` devices to the tenant) if the tenant's device quota allows it. */
  withDevices<T>(tenantId: string, count: number, create: () => Promise<T>): Promise<T> {
    return this.withRoom(tenantId, 'devices', count, create);
  }

  /** Runs `create` (one rule) if the tenant's rule quota allows it. */
  withRule<T>(tenantId: string, create: () => Promise<T>): Promise<T> {
    return this.withRoom(tenantId, 'rules', 1, create);
  }

  // ------------------------------------------------------------ limits (REST, CLI)

  /** The tenant's limits and usage; NOT_FOUND for a tenant that does not exist. */
  async view(tenantId: string): Promise<QuotaView> {
    const found = await this.deps.store.getTenantQuotas(tenantId);
    if (!found) throw new PlatformError('NOT_FOUND', `tenant ${tenantId}`);
    const now = this.deps.clock.now();
    const s = this.stateOf(tenantId, now);
    if (now >= s.dayEndsAt) this.newDay(s, now);
    const [devices, rules] = await Promise.all([this.countOf(tenantId, 'devices'), this.countOf(tenantId, 'rules')]);
    return {
      tenantId,
      limits: { ...s.limits },
      custom: s.own,
      usage: { devices, rules, messagesPerSecond: this.rateOf(s, now), pointsToday: s.points, day: utcDay(now) },
    };
  }

  /** Sets some of the tenant's limits (absent: unchanged, null: unlimited); effective at once on this node. */
  async set(tenantId: string, patch: QuotaPatch): Promise<QuotaView> {
    const current = await this.deps.store.getTenantQuotas(tenantId);
    if (!current) throw new PlatformError('NOT_FOUND', `tenant ${tenantId}`);
    const limits = applyQuotaPatch(current.limits ?? this.defaults, patch);
    await this.deps.store.putTenantQuotas(tenantId, limits);
    const now = this.deps.clock.now();
    this.stateOf(tenantId, now).own = true;
    this.setLimits(tenantId, limits, now);
    this.deps.logger.info({ tenantId, limits }, 'tenant quotas set');
    return this.view(tenantId);
  }

  // ------------------------------------------------------------ internals

  private stateOf(tenantId: string, now: number): TenantState {
    let s = this.tenants.get(tenantId);
    if (s === undefined) {
      const rate = this.defaults.maxMessagesPerSecond;
      s = { limits: this.defaults, own: false, tokens: rate === null ? 0 : Math.max(1, rate), refilledAt: now, points: 0, dayEndsAt: nextUtcDay(now), windowStart: now, inWindow: 0, lastSecond: 0 };
      this.tenants.set(tenantId, s);
    }
    return s;
  }

  private setLimits(tenantId: string, limits: QuotaLimits, now: number): void {
    const s = this.stateOf(tenantId, now);
    s.limits = limits;
    // A new or changed rate starts with a full second's worth.
    s.tokens = limits.maxMessagesPerSecond === null ? 0 : Math.max(1, limits.maxMessagesPerSecond);
    s.refilledAt = now;
  }

  private newDay(s: TenantState, now: number): void {
    s.points = 0;
    s.dayEndsAt = nextUtcDay(now);
  }

  private rateOf(s: TenantState, now: number): number {
    if (now - s.windowStart >= 2 * WINDOW_MS) return 0;
    return now - s.windowStart >= WINDOW_MS ? s.inWindow : s.lastSecond;
  }

  private async withRoom<T>(tenantId: string, quota: 'devices' | 'rules', count: number, create: () => Promise<T>): Promise<T> {
    const limit = this.stateOf(tenantId, this.deps.clock.now()).limits[quota === 'devices' ? 'maxDevices' : 'maxRules'];
    if (limit === null) return create();
    const key = `${tenantId}\u0000${quota}`;
    const previous = this.serial.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      const have = await this.countOf(tenantId, quota);
      if (have + count > limit) {
        throw this.refuse(tenantId, quota, `the tenant has ${have} ${quota} and may have ${limit}`, { [quota]: have, limit, asked: count });
      }
      return create();
    });
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.serial.set(key, settled);
    void settled.then(() => {
      if (this.serial.get(key) === settled) this.serial.delete(key);
    });
    return run;
  }

  private async countOf(tenantId: string, quota: 'devices' | 'rules'): Promise<number> {
    if (quota === 'devices') return (await this.deps.store.listDevices({ tenantId, limit: 1, offset: 0 })).total;
    return (await this.deps.store.listRules(tenantId)).length;
  }

  private refuse(tenantId: string, quota: QuotaKind, detail: string, context: object, retryAfterSeconds?: number): PlatformError {
    this.deps.metrics?.rejected(tenantId, quota);
    const now = this.deps.clock.now();
    const key = `${tenantId}\u0000${quota}`;
    const last = this.warned.get(key);
    if (!last || now - last.at >= (this.deps.warnIntervalMs ?? 60_000)) {
      this.warned.set(key, { at: now, suppressed: 0 });
      this.deps.logger.warn({ tenantId, quota, ...context, refusedSinceLastLine: last?.suppressed ?? 0 }, 'tenant quota reached: refused');
    } else {
      last.suppressed += 1;
    }
    const code = quota === 'messagesPerSecond' ? 'TENANT_RATE_LIMITED' : 'TENANT_QUOTA_EXCEEDED';
    return new PlatformError(code, detail, retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined);
  }

  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const points = this.pending;
    const day = this.pendingDay;
    this.pending = new Map();
    this.flushing = this.deps.store
      .addPointsUsage(day, points)
      .catch((err: unknown) => {
        // Kept for the next flush: the count in memory is right, only its copy in the store lags.
        this.deps.logger.warn({ err, day }, 'writing the daily point counts failed; retrying');
        if (day === this.pendingDay) for (const [t, n] of points) this.pending.set(t, (this.pending.get(t) ?? 0) + n);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  private *usageSamples(): Iterable<{ tenantId: string; quota: QuotaKind; value: number }> {
    const now = this.deps.clock.now();
    for (const [tenantId, s] of this.tenants) {
      yield { tenantId, quota: 'pointsPerDay', value: now >= s.dayEndsAt ? 0 : s.points };
      yield { tenantId, quota: 'messagesPerSecond', value: this.rateOf(s, now) };
    }
  }
}
