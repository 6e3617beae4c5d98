/**
 * Readiness of this node's dependencies (GET /readyz): each server the node cannot work without
 * (PostgreSQL, NATS) is asked for one round trip. A node whose store or bus is unreachable refuses
 * device messages (nothing can be committed or published), so a load balancer should send
 * traffic elsewhere; /healthz stays a liveness probe and never asks them (a restart cures neither).
 *
 * A check that does not answer within `timeoutMs` counts as down: a TCP connection to a host that
 * vanished can hang for minutes, and a probe must answer within its own timeout. Probes arriving
 * together share one round of checks, so a burst of probes costs the servers one query each.
 */
export type DependencyState = 'ok' | 'down';

export interface DependencyCheck {
  /** As shown in /readyz: `postgres`, `nats`. */
  readonly name: string;
  check(): Promise<void>;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, DependencyState>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

export class ReadinessService {
  private inFlight: Promise<ReadinessReport> | undefined;

  constructor(
    private readonly checks: readonly DependencyCheck[],
    private readonly timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
  ) {}

  /** Every dependency's state now; ready when all are ok (no dependencies: always ready). */
  report(): Promise<ReadinessReport> {
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async run(): Promise<ReadinessReport> {
    const states = await Promise.all(this.checks.map(async (c) => [c.name, await this.state(c)] as const));
    const checks = Object.fromEntries(states) as Record<string, DependencyState>;
    return { ready: states.every(([, s]) => s === 'ok'), checks };
  }

  private async state(c: DependencyCheck): Promise<DependencyState> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<DependencyState>((resolve) => {
      timer = setTimeout(() => resolve('down'), this.timeoutMs);
    });
    try {
      return await Promise.race([c.check().then((): DependencyState => 'ok', (): DependencyState => 'down'), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
