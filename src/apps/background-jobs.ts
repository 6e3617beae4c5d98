/**
 * The platform's periodic jobs over the store, started and stopped together: telemetry retention
 * per profile (services/retention.ts) and the forecast series (services/forecast-job.ts).
 */
import { createRetentionMetrics } from '../adapters/metrics/retention.js';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import type { Clock, Logger, Store } from '../ports.js';
import { ForecastJob } from '../services/forecast-job.js';
import { RetentionJob } from '../services/retention.js';
import type { Config } from './config.js';

export interface BackgroundJobs {
  start(): void;
  /** Each job ends its run in progress after its current step. */
  stop(): Promise<void>;
}

export function createBackgroundJobs(deps: { config: Config; store: Store; clock: Clock; logger: Logger; metrics: PrometheusMetrics }): BackgroundJobs {
  const { config, store, clock, logger } = deps;
  const retention = new RetentionJob({ store, clock, logger: logger.child({ component: 'retention' }), metrics: createRetentionMetrics(deps.metrics.registry), config: config.retention });
  const forecast = new ForecastJob({ store, clock, logger: logger.child({ component: 'forecast' }), tenantIds: () => [DEFAULT_TENANT_ID], config: config.forecast });
  return {
    start() {
      forecast.start();
      retention.start();
    },
    async stop() {
      await forecast.stop();
      await retention.stop();
    },
  };
}
