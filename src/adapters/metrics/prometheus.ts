/**
 * PlatformMetrics on prom-client. Each call creates its own Registry (never the global one), so
 * tests and several platform instances in one process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PlatformMetrics } from '../../services/device-api.js';

export interface PrometheusMetrics extends PlatformMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text served at /metrics. */
  render(): Promise<string>;
}

export function createPrometheusMetrics(options: { defaultMetrics?: boolean } = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const messagesIn = new Counter({
    name: 'continuum_messages_in_total',
    help: 'Messages received from devices',
    labelNames: ['transport', 'kind'] as const,
    registers,
  });
  const messagesOut = new Counter({
    name: 'continuum_messages_out_total',
    help: 'Messages sent to devices',
    labelNames: ['transport', 'kind'] as const,
    registers,
  });
  const rejects = new Counter({
    name: 'continuum_rejects_total',
    help: 'Requests, connections and messages refused',
    labelNames: ['transport', 'reason'] as const,
    registers,
  });
  const connections = new Gauge({
    name: 'continuum_connections',
    help: 'Open device connections',
    labelNames: ['transport'] as const,
    registers,
  });
  const commitSeconds = new Histogram({
    name: 'continuum_store_commit_seconds',
    help: 'Duration of one telemetry group commit',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const storeRows = new Counter({
    name: 'continuum_store_rows_total',
    help: 'Telemetry rows committed to the store',
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    messageIn: (transport, kind) => messagesIn.inc({ transport, kind }),
    messageOut: (transport, kind) => messagesOut.inc({ transport, kind }),
    reject: (transport, reason) => rejects.inc({ transport, reason }),
    connections: (transport, delta) => connections.inc({ transport }, delta),
    storeCommit: (rows, seconds) => {
      commitSeconds.observe(seconds);
      storeRows.inc(rows);
    },
  };
}
