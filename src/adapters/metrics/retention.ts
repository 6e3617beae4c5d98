/** Telemetry retention counters on the platform's prom-client registry (served at /metrics with the rest). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RetentionMetrics } from '../../ports/metrics.js';

export function createRetentionMetrics(registry: Registry): RetentionMetrics {
  const registers = [registry];
  const deleted = new Counter({ name: 'continuum_retention_deleted_points_total', help: 'Telemetry points deleted by profile retention', registers });
  const lastRun = new Gauge({ name: 'continuum_retention_run_seconds', help: 'Duration of the last retention run', registers });
  return {
    deleted: (points) => deleted.inc(points),
    ran: (seconds) => lastRun.set(seconds),
  };
}
