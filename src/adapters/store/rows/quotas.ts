/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { QuotaLimits } from '../../../domain/quotas.js';

export interface LimitsRow {
  readonly tenant_id: string;
  readonly max_devices: number | null;
  readonly max_messages_per_second: number | null;
  readonly max_points_per_day: number | null;
  readonly max_rules: number | null;
}

export const toLimits = (r: LimitsRow): QuotaLimits => ({
  maxDevices: r.max_devices,
  maxMessagesPerSecond: r.max_messages_per_second,
  maxPointsPerDay: r.max_points_per_day,
  maxRules: r.max_rules,
});
