/**
 * PlatformMetrics on prom-client. Each call creates its own Registry (never the global one), so
 * tests and several platform instances in one process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PlatformMetrics } from '../../ports/device-api.js';

export interface PrometheusMetrics extends PlatformMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text served at /metrics. */
  render(): Promise<string>;
  /** One answered HTTP request: continuum_http_request_duration_seconds{method,route,status}. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** A gauge read when /metrics is scraped (device counts, active alarms, outbox depth). */
  gauge(name: string, help: string, read: () => number | Promise<number>): void;
  /** `continuum_build_info{…} 1`: which build runs where, for dashboards and alerts on mixed versions. */
  buildInfo(labels: Readonly<Record<string, string>>): void;
}

/**
 * Per-message counts kept as plain numbers and added to the counter when /metrics is scraped.
 * prom-client hashes the label object on every `inc` (one hash string per message at ingest
 * rates, measured in allocation profiles of the ingest bench); a scrape sees the same totals.
 */
class PendingCounts {
  private readonly counts = new Map<string, Map<string, number>>();

  add(a: string, b: string): void {
    let inner = this.counts.get(a);
    if (inner === undefined) this.counts.set(a, (inner = new Map()));
    inner.set(b, (inner.get(b) ?? 0) + 1);
  }

  /** Hands every pending count to `to` and starts again from zero. */
  drain(to: (a: string, b: string, n: number) => void): void {
    for (const [a, inner] of this.counts) {
      for (const [b, n] of inner) if (n > 0) to(a, b, n);
      inner.clear();
    }
  }
}

export function createPrometheusMetrics(options: { defaultMetrics?: boolean } = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const pendingIn = new PendingCounts();
  const pendingOut = new PendingCounts();
  new Counter({
    name: 'continuum_messages_in_total',
    help: 'Messages received from devices',
    labelNames: ['transport', 'kind'] as const,
    registers,
    collect() {
      pendingIn.drain((transport, kind, n) => this.inc({ transport, kind }, n));
    },
  });
  new Counter({
    name: 'continuum_messages_out_total',
    help: 'Messages sent to devices',
    labelNames: ['transport', 'kind'] as const,
    registers,
    collect() {
      pendingOut.drain((transport, kind, n) => this.inc({ transport, kind }, n));
    },
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
  const httpSeconds = new Histogram({
    name: 'continuum_http_request_duration_seconds',
    help: 'HTTP requests (API, device API, dashboard) by route pattern, from arrival to the last byte of the answer',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  // One child per (method, route, status), looked up by a string key: labels() hashes the label
  // object, which device HTTP traffic would pay on every request.
  const httpChildren = new Map<string, { observe(v: number): void }>();
  const decoderFailures = new Counter({
    name: 'continuum_decoder_failures_total',
    help: 'Raw device payloads a profile decoder refused (error, time limit, memory limit)',
    labelNames: ['transport'] as const,
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
    messageIn: (transport, kind) => pendingIn.add(transport, kind),
    messageOut: (transport, kind) => pendingOut.add(transport, kind),
    reject: (transport, reason) => rejects.inc({ transport, reason }),
    connections: (transport, delta) => connections.inc({ transport }, delta),
    decoderFailure: (transport) => decoderFailures.inc({ transport }),
    storeCommit: (rows, seconds) => {
      commitSeconds.observe(seconds);
      storeRows.inc(rows);
    },
    httpRequest(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let child = httpChildren.get(key);
      if (child === undefined) httpChildren.set(key, (child = httpSeconds.labels({ method, route, status: String(status) })));
      child.observe(seconds);
    },
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    },
    buildInfo(labels) {
      new Gauge({ name: 'continuum_build_info', help: 'Always 1; the labels name the build and the node', labelNames: Object.keys(labels), registers }).set(labels, 1);
    },
  };
}
