/**
 * Brute-force brakes for everything that checks a secret: sign-in, device authentication,
 * provisioning. FailureThrottle counts failures per key (an account, a client address, a
 * credential) in a fixed window and locks the key out once the count is reached, each further
 * lockout twice as long up to a cap; a success clears the key. HashGate bounds how many
 * password hashes run at once (each scrypt call holds tens of MiB), queueing a few and refusing
 * the rest, so a flood of sign-ins cannot exhaust memory or the thread pool.
 *
 * State is per process (the in-memory implementation); a cluster shares it through the store
 * or bus behind the same methods.
 */
import { PlatformError } from '../domain/errors.js';
import type { Clock } from '../ports.js';

export interface ThrottleOptions {
  /** Failures within windowMs that lock the key. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** First lockout; each further one doubles, up to maxLockoutMs. */
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
  /** Keys remembered at most; past it the oldest unlocked ones are forgotten first. */
  readonly maxKeys: number;
}

interface KeyState {
  windowStart: number;
  failures: number;
  lockedUntil: number;
  lockouts: number;
}

export class FailureThrottle {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly opts: ThrottleOptions,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds until the first of `keys` is unlocked; 0 when none is locked. */
  lockedFor(keys: readonly string[]): number {
    const now = this.clock.now();
    let wait = 0;
    for (const key of keys) {
      const state = this.keys.get(key);
      if (state && state.lockedUntil > now) wait = Math.max(wait, state.lockedUntil - now);
    }
    return wait;
  }

  /** Throws RATE_LIMITED (with the seconds to wait) when any of `keys` is locked out. */
  check(keys: readonly string[], what: string): void {
    const wait = this.lockedFor(keys);
    if (wait > 0) throw new PlatformError('RATE_LIMITED', `too many failed ${what}; try again in ${Math.ceil(wait / 1000)} s`, { retryAfterSeconds: Math.ceil(wait / 1000) });
  }

  /** Counts a failure against every key; returns true when this one locked any of them. */
  failure(keys: readonly string[]): boolean {
    const now = this.clock.now();
    let locked = false;
    for (const key of keys) {
      const state = this.stateOf(key, now);
      state.failures += 1;
      if (state.failures >= this.opts.maxFailures) {
        state.lockedUntil = now + Math.min(this.opts.lockoutMs * 2 ** state.lockouts, this.opts.maxLockoutMs);
        state.lockouts += 1;
        state.failures = 0;
        state.windowStart = now;
        locked = true;
      }
    }
    return locked;
  }

  /** A success forgets the key's failures (an address keeps its count: it may try many accounts). */
  success(key: string): void {
    this.keys.delete(key);
  }

  get size(): number {
    return this.keys.size;
  }

  private stateOf(key: string, now: number): KeyState {
    let state = this.keys.get(key);
    if (state && now - state.windowStart > this.opts.windowMs && state.lockedUntil <= now) {
      // A new window; lockouts decay only after a whole quiet window past the last lockout.
      state.failures = 0;
      if (now - state.lockedUntil > this.opts.windowMs) state.lockouts = 0;
      state.windowStart = now;
    }
    if (!state) {
      if (this.keys.size >= this.opts.maxKeys) this.evict(now);
      state = { windowStart: now, failures: 0, lockedUntil: 0, lockouts: 0 };
      this.keys.set(key, state);
    }
    return state;
  }

  /** Forgets unlocked keys, oldest first, until a tenth of the room is free (locked ones stay). */
  private evict(now: number): void {
    const target = Math.floor(this.opts.maxKeys * 0.9);
    for (const [key, state] of this.keys) {
      if (this.keys.size <= target) return;
      if (state.lockedUntil <= now) this.keys.delete(key);
    }
    // Everything is locked (an attack across very many keys): drop the oldest anyway.
    for (const key of this.keys.keys()) {
      if (this.keys.size <= target) return;
      this.keys.delete(key);
    }
  }
}

/** At most `concurrency` tasks at once, `maxQueued` waiting; past that, UNAVAILABLE at once. */
export class HashGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) {
        throw new PlatformError('UNAVAILABLE', 'too many password checks in progress; try again shortly', { retryAfterSeconds: 1 });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; only when none waits is it released.
      if (next) next();
      else this.running -= 1;
    }
  }
}
