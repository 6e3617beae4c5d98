/** Outbound-connection counters on the platform's prom-client registry (served at /metrics). */
import { Counter, type Registry } from 'prom-client';
import type { OutboundMetrics } from '../../ports/metrics.js';

export function createOutboundMetrics(registry: Registry): OutboundMetrics {
  const refused = new Counter({
    name: 'continuum_outbound_refused_total',
    help: 'Outbound connections (webhooks) refused by the outbound policy, by the kind of address',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return { refused: (reason) => refused.inc({ reason }) };
}
