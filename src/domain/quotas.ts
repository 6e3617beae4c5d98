/**
 * Per-tenant quotas (issue 15): how many devices and rules a tenant may have, how many device
 * messages a second it may send, and how many telemetry points a UTC day it may store. A limit
 * of `null` is unlimited; a tenant without limits of its own gets the configured defaults
 * (`tenants.defaultQuotas`, all unlimited unless set, so a single-tenant install is unchanged).
 */

export const QUOTA_KINDS = ['devices', 'messagesPerSecond', 'pointsPerDay', 'rules'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

export interface QuotaLimits {
  readonly maxDevices: number | null;
  readonly maxMessagesPerSecond: number | null;
  readonly maxPointsPerDay: number | null;
  readonly maxRules: number | null;
}

export const UNLIMITED: QuotaLimits = Object.freeze({ maxDevices: null, maxMessagesPerSecond: null, maxPointsPerDay: null, maxRules: null });

/** The limit field of each quota kind. */
export const LIMIT_OF: Readonly<Record<QuotaKind, keyof QuotaLimits>> = {
  devices: 'maxDevices',
  messagesPerSecond: 'maxMessagesPerSecond',
  pointsPerDay: 'maxPointsPerDay',
  rules: 'maxRules',
};

/** A partial setting (config defaults, a PUT body): absent keeps, null is unlimited. */
export type QuotaPatch = { readonly [K in keyof QuotaLimits]?: number | null };

export function applyQuotaPatch(base: QuotaLimits, patch: QuotaPatch): QuotaLimits {
  return {
    maxDevices: patch.maxDevices !== undefined ? patch.maxDevices : base.maxDevices,
    maxMessagesPerSecond: patch.maxMessagesPerSecond !== undefined ? patch.maxMessagesPerSecond : base.maxMessagesPerSecond,
    maxPointsPerDay: patch.maxPointsPerDay !== undefined ? patch.maxPointsPerDay : base.maxPointsPerDay,
    maxRules: patch.maxRules !== undefined ? patch.maxRules : base.maxRules,
  };
}

export function isUnlimited(l: QuotaLimits): boolean {
  return l.maxDevices === null && l.maxMessagesPerSecond === null && l.maxPointsPerDay === null && l.maxRules === null;
}

const DAY_MS = 86_400_000;

/** The UTC day of an instant, as the days of the usage counter are keyed: `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first millisecond of the UTC day after the one holding `ms`. */
export function nextUtcDay(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
}
