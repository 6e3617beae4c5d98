/** Rule engine counters on the platform's prom-client registry (served at /metrics with the rest). */
import { Counter, type Registry } from 'prom-client';
import type { RuleMetrics } from '../../ports/metrics.js';

export function createRuleMetrics(registry: Registry): RuleMetrics {
  const registers = [registry];
  const evaluations = new Counter({ name: 'continuum_rule_evaluations_total', help: 'Rule conditions evaluated', registers });
  const fired = new Counter({ name: 'continuum_rule_fired_total', help: 'Rule edges that ran actions', labelNames: ['edge'] as const, registers });
  const errors = new Counter({ name: 'continuum_rule_errors_total', help: 'Rule failures (condition or action)', labelNames: ['stage'] as const, registers });
  const dropped = new Counter({ name: 'continuum_rule_dropped_total', help: 'Evaluations dropped because the engine was overloaded', registers });
  return {
    evaluated: (n) => evaluations.inc(n),
    fired: (edge) => fired.inc({ edge }),
    error: (stage) => errors.inc({ stage }),
    dropped: () => dropped.inc(),
  };
}
