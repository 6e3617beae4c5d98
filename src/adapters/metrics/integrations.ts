/**
 * Integration metrics on the platform's prom-client registry: records sent, send failures,
 * records dropped from a full buffer, inbound messages; backlog and lag (age of the oldest
 * unsent record) per integration, read from the service when /metrics is scraped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { IntegrationMetrics } from '../../ports.js';

export interface IntegrationGaugeSource {
  gauges(): Promise<{ id: string; type: string; backlog: number; lagSeconds: number }[]>;
}

export function createIntegrationMetrics(registry: Registry, source: () => IntegrationGaugeSource | undefined): IntegrationMetrics {
  const registers = [registry];
  const sent = new Counter({ name: 'continuum_integration_sent_total', help: 'Records an integration delivered (acknowledged by the remote)', labelNames: ['integration'] as const, registers });
  const failed = new Counter({ name: 'continuum_integration_send_failures_total', help: 'Sends to the remote that failed (the records stay buffered)', labelNames: ['integration'] as const, registers });
  const dropped = new Counter({ name: 'continuum_integration_dropped_total', help: 'Records dropped because the integration buffer was full', labelNames: ['integration'] as const, registers });
  const received = new Counter({ name: 'continuum_integration_received_total', help: 'Inbound messages (MQTT bridge, in), stored or rejected', labelNames: ['integration', 'outcome'] as const, registers });
  const read = async () => (await source()?.gauges()) ?? [];
  new Gauge({
    name: 'continuum_integration_backlog',
    help: 'Records waiting in an integration buffer',
    labelNames: ['integration', 'type'] as const,
    registers,
    async collect() {
      this.reset();
      for (const g of await read()) this.set({ integration: g.id, type: g.type }, g.backlog);
    },
  });
  new Gauge({
    name: 'continuum_integration_lag_seconds',
    help: 'Age of the oldest record an integration has not yet delivered (0 when none waits)',
    labelNames: ['integration', 'type'] as const,
    registers,
    async collect() {
      this.reset();
      for (const g of await read()) this.set({ integration: g.id, type: g.type }, g.lagSeconds);
    },
  });
  return {
    sent: (integration, count) => sent.inc({ integration }, count),
    failed: (integration) => failed.inc({ integration }),
    dropped: (integration, count) => dropped.inc({ integration }, count),
    received: (integration, outcome) => received.inc({ integration, outcome }),
  };
}
