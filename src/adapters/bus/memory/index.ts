/**
 * The in-process bus of the embedded deployment. Same subject semantics as NATS (`*` matches one
 * token, `>` the rest) so the NATS adapter can replace it without a service noticing.
 * Handlers run synchronously; one that throws is logged and does not stop the others.
 */
import type { Bus, BusEvents, Logger } from '../../../ports.js';

type AnyHandler = (message: never, subject: string) => void;

interface PatternSub {
  readonly tokens: readonly string[];
  readonly handler: AnyHandler;
}

function matches(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== '*' && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

export class MemoryBus implements Bus {
  private readonly exact = new Map<string, Set<AnyHandler>>();
  private readonly patterns = new Set<PatternSub>();

  constructor(private readonly logger?: Logger) {}

  publish<E extends keyof BusEvents>(_event: E, subject: string, message: BusEvents[E]): void {
    const direct = this.exact.get(subject);
    if (direct) for (const handler of direct) this.deliver(handler, message, subject);
    if (this.patterns.size === 0) return;
    const tokens = subject.split('.');
    for (const sub of this.patterns) if (matches(sub.tokens, tokens)) this.deliver(sub.handler, message, subject);
  }

  subscribe<E extends keyof BusEvents>(
    _event: E,
    pattern: string,
    handler: (message: BusEvents[E], subject: string) => void,
  ): () => void {
    const h = handler as AnyHandler;
    if (!pattern.includes('*') && !pattern.includes('>')) {
      let set = this.exact.get(pattern);
      if (!set) this.exact.set(pattern, (set = new Set()));
      set.add(h);
      return () => {
        set.delete(h);
        if (set.size === 0) this.exact.delete(pattern);
      };
    }
    const sub: PatternSub = { tokens: pattern.split('.'), handler: h };
    this.patterns.add(sub);
    return () => {
      this.patterns.delete(sub);
    };
  }

  async close(): Promise<void> {
    this.exact.clear();
    this.patterns.clear();
  }

  private deliver(handler: AnyHandler, message: unknown, subject: string): void {
    try {
      (handler as (m: unknown, s: string) => void)(message, subject);
    } catch (err) {
      this.logger?.error({ err, subject }, 'bus handler failed');
    }
  }
}
