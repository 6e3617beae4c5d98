/**
 * The gauges an operator's dashboard starts from, read when /metrics is scraped: devices,
 * devices online, active alarms, the outbox depth, and which build runs on this node.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import type { Store } from '../ports.js';

export interface GaugeSources {
  readonly store: Pick<Store, 'listDevices' | 'listAlarms'>;
  readonly status: { onlineCount(): number };
  readonly outbox: { depth(): number };
  readonly nodeId: string;
}

/** package.json's version, read once (the CLI's --version prints the same). */
function buildVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function registerGauges(metrics: PrometheusMetrics, s: GaugeSources): void {
  // Counts of the default tenant: one tenant per deployment until the tenants issue lands.
  metrics.gauge('continuum_devices', 'Devices registered', async () => (await s.store.listDevices({ tenantId: DEFAULT_TENANT_ID, limit: 1, offset: 0 })).total);
  metrics.gauge('continuum_devices_online', 'Devices online as seen by this node (a session here or recent activity)', () => s.status.onlineCount());
  metrics.gauge(
    'continuum_alarms_active',
    'Alarms not cleared (active or acknowledged)',
    async () => (await s.store.listAlarms({ tenantId: DEFAULT_TENANT_ID, statuses: ['active', 'acknowledged'], limit: 1, offset: 0 })).total,
  );
  metrics.gauge('continuum_outbox_pending', 'Outbox records published to the bus and not yet acknowledged', () => s.outbox.depth());
  metrics.buildInfo({ version: buildVersion(), node: s.nodeId, node_version: process.version });
}
