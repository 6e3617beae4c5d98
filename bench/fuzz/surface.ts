/**
 * One fuzzed input surface: a fast-check property over generated inputs, run in seeded chunks.
 * A failure is kept with everything needed to replay it (seed, path, the shrunk counterexample)
 * and the run goes on with the next chunk, so one finding does not hide the others.
 */
import fc from 'fast-check';

export interface Failure {
  readonly surface: string;
  readonly seed: number;
  readonly path: string;
  /** The shrunk counterexample, printed by fast-check (cut at 4,000 characters). */
  readonly counterexample: string;
  readonly error: string;
  readonly kind: 'crash' | 'hang' | 'property';
}

export interface ChunkResult {
  readonly cases: number;
  readonly failure?: Failure;
}

export interface Surface {
  readonly name: string;
  /** Set when the property does not hold yet and is fixed elsewhere: the reason and where. */
  readonly pending?: string;
  run(numRuns: number, seed: number): ChunkResult | Promise<ChunkResult>;
  /** The slowest cases so far (network surfaces), to tell a slow path from a loaded machine. */
  slowest?(): readonly SlowCase[];
}

export interface SlowCase {
  readonly ms: number;
  readonly input: string;
}

/** Keeps the `size` slowest cases seen. */
class Slowest {
  private readonly cases: SlowCase[] = [];
  constructor(private readonly size = 3) {}

  note(ms: number, input: () => unknown): void {
    if (this.cases.length >= this.size && ms <= (this.cases.at(-1)?.ms ?? 0)) return;
    this.cases.push({ ms: Math.round(ms), input: readable(fc.stringify(input())).slice(0, 400) });
    this.cases.sort((a, b) => b.ms - a.ms);
    this.cases.length = Math.min(this.cases.length, this.size);
  }

  list(): readonly SlowCase[] {
    return this.cases;
  }
}

/** A case taking longer than this is a hang (the parsers' caps keep every case far below it). */
export const HANG_MS = 2000;

export class HangError extends Error {
  constructor(ms: number, limitMs = HANG_MS) {
    super(`one case took ${Math.round(ms)} ms (limit ${limitMs} ms)`);
    this.name = 'HangError';
  }
}

/** An error the input may legitimately cause; anything else thrown is a crash of the surface. */
export type Expected = (err: unknown) => boolean;

function kindOf(error: unknown): Failure['kind'] {
  if (error instanceof HangError) return 'hang';
  if (error instanceof PropertyViolation) return 'property';
  return 'crash';
}

/** A checked property that does not hold (as opposed to an exception escaping the code under test). */
export class PropertyViolation extends Error {
  override readonly name = 'PropertyViolation';
}

export function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new PropertyViolation(message());
}

/**
 * fast-check prints a Buffer as its byte list; as text (when it is valid UTF-8) or hex a
 * counterexample can be read and pasted into a fixture.
 */
export function readable(printed: string): string {
  return printed.replace(/(Buffer|Uint8Array)\.from\(\[([\d,]*)\]\)/g, (_all, _type: string, list: string) => {
    const bytes = Buffer.from(list === '' ? [] : list.split(',').map(Number));
    const text = bytes.toString('utf8');
    const printable = Buffer.from(text, 'utf8').equals(bytes) && !/[\u0000-\u0008\u000e-\u001f]/.test(text);
    return printable ? `Buffer.from(${JSON.stringify(text)})` : `Buffer.from("${bytes.toString('hex')}", "hex")`;
  });
}

function failureOf<T>(surface: string, details: fc.RunDetails<T>): Failure | undefined {
  if (!details.failed) return undefined;
  const error = details.errorInstance;
  const text = readable(fc.stringify(details.counterexample));
  return {
    surface,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    counterexample: text.length > 4000 ? `${text.slice(0, 4000)}… (${text.length} characters)` : text,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    kind: kindOf(error),
  };
}

/** A synchronous surface: `body` returns normally or throws an error `expected` accepts. */
export function syncSurface<T>(name: string, arb: fc.Arbitrary<T>, body: (input: T) => void, expected: Expected, pending?: string): Surface {
  const property = fc.property(arb, (input) => {
    const started = performance.now();
    try {
      body(input);
    } catch (err) {
      if (!expected(err)) throw err;
    }
    const ms = performance.now() - started;
    if (ms > HANG_MS) throw new HangError(ms);
  });
  return {
    name,
    ...(pending !== undefined ? { pending } : {}),
    run(numRuns, seed) {
      const details = fc.check(property, { numRuns, seed });
      const failure = failureOf(name, details);
      return { cases: details.numRuns, ...(failure ? { failure } : {}) };
    },
  };
}

/** An asynchronous surface (network): each case must settle within `timeoutMs`. */
export function asyncSurface<T>(name: string, arb: fc.Arbitrary<T>, body: (input: T) => Promise<void>, timeoutMs: number): Surface {
  const slowest = new Slowest();
  const property = fc.asyncProperty(arb, async (input) => {
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HangError(performance.now() - started, timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([body(input), expired]);
    } finally {
      clearTimeout(timer);
      slowest.note(performance.now() - started, () => input);
    }
  });
  return {
    name,
    slowest: () => slowest.list(),
    async run(numRuns, seed) {
      // Found without shrinking first: shrinking a hang re-runs case after case of timeoutMs each.
      const found = await fc.check(property, { numRuns, seed, endOnFailure: true });
      if (!found.failed) return { cases: found.numRuns };
      const first = failureOf(name, found) as Failure;
      if (first.kind === 'hang') return { cases: found.numRuns - 1, failure: first };
      // Anything else is replayed from where it was found, and shrunk.
      const shrunk = await fc.check(property, { seed, path: first.path, numRuns: 1 });
      return { cases: found.numRuns - 1, failure: failureOf(name, shrunk) ?? first };
    },
  };
}
