/**
 * The two things the engine does without a message: schedule rules (checked at every minute of
 * the platform clock, cron read in the rule's time zone) and "inactive for N minutes" for
 * connectivity rules (a device not heard from for N minutes by the platform clock). Missed
 * minutes while the platform was down are not caught up.
 */
import type { Device } from '../../domain/device.js';
import type { CompiledRule } from '../../domain/rules/compile.js';
import { cronMatches } from '../../domain/rules/cron.js';
import type { Clock, DeviceQuery, Logger, Page } from '../../ports.js';
import type { RuleEngine } from './engine.js';

export interface TargetLookup {
  getDevice(id: string): Promise<Device | undefined>;
  listDevices(query: DeviceQuery): Promise<Page<Device>>;
}

export interface RuleTimersDeps {
  readonly engine: RuleEngine;
  readonly registry: TargetLookup;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Seeds last activity at start from stored statuses, so a device silent since before a restart is noticed. */
  readonly statuses?: { getStatuses(ids: readonly string[]): Promise<{ deviceId: string; lastActivity?: number }[]> };
  readonly inactivityCheckMs?: number;
}

const MINUTE = 60_000;
const PAGE = 1000;
/** A tenant- or profile-wide scheduled rule visits at most this many devices per run. */
export const MAX_TARGETS = 100_000;

interface Seen {
  device: Device;
  at: number;
  /** Rules already told this device is inactive (until it is heard from again). */
  inactive: Set<string>;
}

const inactivityMinutes = (r: CompiledRule): number | undefined => (r.rule.trigger === 'connectivity' ? r.rule.connectivity?.inactiveMinutes : undefined);

/** The devices a rule applies to. */
export async function targetDevices(registry: TargetLookup, rule: CompiledRule['rule'], max = MAX_TARGETS): Promise<Device[]> {
  if (rule.deviceId !== undefined) {
    const d = await registry.getDevice(rule.deviceId);
    return d && d.tenantId === rule.tenantId ? [d] : [];
  }
  const out: Device[] = [];
  for (let offset = 0; out.length < max; offset += PAGE) {
    const page = await registry.listDevices({ tenantId: rule.tenantId, ...(rule.profileId !== undefined ? { profileId: rule.profileId } : {}), limit: PAGE, offset });
    out.push(...page.items);
    if (page.items.length < PAGE) break;
  }
  return out.slice(0, max);
}

const watchesInactivity = (r: CompiledRule): boolean => inactivityMinutes(r) !== undefined;

export class RuleTimers {
  private readonly seen = new Map<string, Seen>();
  private minuteTimer: NodeJS.Timeout | undefined;
  private inactivityTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RuleTimersDeps) {
    deps.engine.onActivity = (device, rules, online) => this.activity(device, rules, online);
  }

  async start(): Promise<void> {
    await this.seed();
    this.scheduleNextMinute();
    this.inactivityTimer = setInterval(() => this.checkInactivity(), this.deps.inactivityCheckMs ?? 30_000);
    this.inactivityTimer.unref();
  }

  stop(): void {
    if (this.minuteTimer) clearTimeout(this.minuteTimer);
    if (this.inactivityTimer) clearInterval(this.inactivityTimer);
  }

  private scheduleNextMinute(): void {
    const now = this.deps.clock.now();
    const next = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    this.minuteTimer = setTimeout(() => {
      this.scheduleNextMinute();
      this.runSchedules(next).catch((err: unknown) => this.deps.logger.error({ err }, 'scheduled rules failed'));
    }, next - now);
    this.minuteTimer.unref();
  }

  /** Runs every schedule rule whose cron matches the minute starting at `minute` (ms). */
  async runSchedules(minute: number): Promise<void> {
    const { engine } = this.deps;
    for (const rule of engine.index.all()) {
      if (rule.rule.trigger !== 'schedule' || !rule.cron || !cronMatches(rule.cron, minute)) continue;
      for (const device of await targetDevices(this.deps.registry, rule.rule)) {
        engine.submit(device.tenantId, device.id, () => engine.scheduled(device, [rule], minute));
      }
    }
  }

  /** Called by the engine for every message and status change of a device. */
  private activity(device: Device, rules: readonly CompiledRule[], online?: boolean): void {
    // Called on every message: no allocation unless a rule watches inactivity.
    if (!rules.some(watchesInactivity)) return;
    const watching = rules.filter(watchesInactivity);
    const entry = this.seen.get(device.id);
    const now = this.deps.clock.now();
    // A disconnect is not activity; it only starts the clock for a device never seen before.
    if (online === false) {
      if (!entry) this.seen.set(device.id, { device, at: now, inactive: new Set() });
      return;
    }
    this.seen.set(device.id, { device, at: now, inactive: new Set() });
    const back = watching.filter((r) => entry?.inactive.has(r.rule.id));
    if (back.length > 0) {
      this.deps.engine.submit(device.tenantId, device.id, () => this.deps.engine.connectivity(device, back, { event: 'online', online: true }));
    }
  }

  /** Tells connectivity rules about devices silent for their `inactiveMinutes` (once per silence). */
  checkInactivity(now = this.deps.clock.now()): void {
    const { engine } = this.deps;
    for (const entry of this.seen.values()) {
      for (const rule of engine.index.forDevice(entry.device)) {
        const minutes = inactivityMinutes(rule);
        if (minutes === undefined || entry.inactive.has(rule.rule.id) || now - entry.at < minutes * MINUTE) continue;
        entry.inactive.add(rule.rule.id);
        const device = entry.device;
        engine.submit(device.tenantId, device.id, () => engine.connectivity(device, [rule], { event: 'inactive', inactiveMinutes: minutes }));
      }
    }
  }

  /** Starts watching the targets of a connectivity rule with inactiveMinutes (at start and when saved). */
  async watch(rule: CompiledRule): Promise<void> {
    if (inactivityMinutes(rule) === undefined) return;
    const devices = (await targetDevices(this.deps.registry, rule.rule)).filter((d) => !this.seen.has(d.id));
    const statuses = this.deps.statuses ? await this.deps.statuses.getStatuses(devices.map((d) => d.id)) : [];
    const last = new Map(statuses.map((s) => [s.deviceId, s.lastActivity]));
    const now = this.deps.clock.now();
    for (const device of devices) this.seen.set(device.id, { device, at: last.get(device.id) ?? now, inactive: new Set() });
  }

  private async seed(): Promise<void> {
    for (const rule of this.deps.engine.index.all()) {
      await this.watch(rule).catch((err: unknown) => this.deps.logger.warn({ err, ruleId: rule.rule.id }, 'watching rule targets failed'));
    }
  }
}
