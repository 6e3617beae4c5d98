/**
 * Counters the services report to and the metrics adapter (adapters/metrics/) implements.
 * The device API's transport and platform counters are in ports/device-api.ts beside the API.
 */
import type { RefusalReason } from '../domain/outbound/policy.js';
import type { Edge } from '../domain/rules/state.js';

export interface RuleMetrics {
  evaluated(count: number): void;
  fired(edge: Edge): void;
  /** The stage of a rule error (BusEvents['ruleError']['stage']). */
  error(stage: 'condition' | 'action'): void;
  dropped(): void;
}

export interface OutboundMetrics {
  refused(reason: RefusalReason): void;
}

/** Telemetry retention (services/retention.ts). */
export interface RetentionMetrics {
  /** continuum_retention_deleted_points_total. */
  deleted(points: number): void;
  /** continuum_retention_run_seconds: the last run's duration. */
  ran(seconds: number): void;
}
