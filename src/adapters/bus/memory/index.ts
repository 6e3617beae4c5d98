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

/**
 * Whether `subject` matches the pattern's tokens. The subject is read in place rather than split:
 * every telemetry message is published here, and a split array per message showed up in the
 * ingest bench's allocation profile.
 */
function matches(pattern: readonly string[], subject: string): boolean {
  let start = 0; // where the subject's next token begins; past the end when there is none
  for (const p of pattern) {
    if (start > subject.length) return false;
    if (p === '>') return true;
    let end = subject.indexOf('.', start);
    if (end === -1) end = subject.length;
    if (p !== '*' && (end - start !== p.length || !subject.startsWith(p, start))) return false;
    start = end + 1;
  }
  return start === subject.length + 1;
}

export class MemoryBus implements Bus {
  private readonly exact = new Map<string, Set<AnyHandler>>();
  private readonly patterns = new Set<PatternSub>();

  constructor(private readonly logger?: Logger) {}

  publish<E extends keyof BusEvents>(_event: E, subject: string, message: BusEvents[E]): void {
    const direct = this.exact.get(subject);
    if (direct) for (const handler of direct) this.deliver(handler, message, subject);
    for (const sub of this.patterns) if (matches(sub.tokens, subject)) this.deliver(sub.handler, message, subject);
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
