/**
 * Waiting for a database another process has locked, without blocking the event loop.
 *
 * better-sqlite3 is synchronous: with SQLite's busy_timeout, a statement that finds the file
 * locked (an operator's `sqlite3` shell in a transaction, a backup tool) spins inside the call
 * and every socket of the process waits with it — /healthz stopped answering for 5 s. So the
 * connection's busy_timeout is short (BUSY_TIMEOUT_MS, a few ms of spinning absorbs ordinary
 * contention) and a store call that still fails with SQLITE_BUSY is retried from a timer with
 * back-off: the caller's promise (and with it the device's acknowledgement) simply waits.
 *
 * Order: once a call has met the lock, every later call queues behind it and they run one at a
 * time, in call order, until the queue is empty. Group commits therefore commit in order and
 * PUBACKs to one client stay in order [MQTT-4.6.0-2]. (A call declared `async` reports BUSY a
 * microtask after it returned; a call made in that same synchronous stretch, before the queue
 * exists, can still overtake it. The ingest path never does this: it awaits each commit.)
 */
import Database from 'better-sqlite3';
import type { Logger } from '../../../ports.js';

/** Spinning allowed inside one statement before SQLITE_BUSY comes back to us. */
export const BUSY_TIMEOUT_MS = 10;
const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 250;
/** How often a wait that goes on is logged again. */
const LOG_EVERY_MS = 10_000;

export function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && (err.code === 'SQLITE_BUSY' || err.code.startsWith('SQLITE_BUSY_'));
}

type AnyFn = (...args: unknown[]) => unknown;

/** Wraps every method of a store so that SQLITE_BUSY waits asynchronously (see above). */
export function retryWhenBusy<T extends object>(impl: T, logger?: Logger): T {
  let queued = 0;
  let tail: Promise<unknown> = Promise.resolve();
  let waitingSince = 0;
  let lastLog = 0;

  function noteWait(name: string): void {
    const now = Date.now();
    if (waitingSince === 0) waitingSince = now;
    if (now - lastLog < LOG_EVERY_MS) return;
    lastLog = now;
    logger?.warn({ call: name, waitingMs: now - waitingSince, queued }, 'database is locked by another process; writes wait and retry');
  }

  /** Runs fn until it does not fail with SQLITE_BUSY, waiting on timers between attempts. */
  function untilFree(name: string, fn: AnyFn, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let delay = FIRST_RETRY_MS;
      const retry = (): void => {
        noteWait(name);
        setTimeout(attempt, delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      };
      const attempt = (): void => {
        let result: unknown;
        try {
          result = fn(...args);
        } catch (err) {
          if (isBusy(err)) retry();
          else reject(err);
          return;
        }
        Promise.resolve(result).then(resolve, (err: unknown) => (isBusy(err) ? retry() : reject(err)));
      };
      retry();
    });
  }

  function enqueue(name: string, fn: AnyFn, args: unknown[]): Promise<unknown> {
    queued++;
    const run = tail.then(() => untilFree(name, fn, args));
    tail = run.then(
      () => dequeued(),
      () => dequeued(),
    );
    return run;
  }

  function dequeued(): void {
    if (--queued > 0) return;
    if (waitingSince !== 0) logger?.info({ waitedMs: Date.now() - waitingSince }, 'database lock released; queued writes done');
    waitingSince = 0;
    lastLog = 0;
  }

  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(impl)) {
    if (typeof member !== 'function' || name === 'close') {
      out[name] = member;
      continue;
    }
    const fn = (member as AnyFn).bind(impl);
    out[name] = (...args: unknown[]): unknown => {
      if (queued > 0) return enqueue(name, fn, args);
      let result: unknown;
      try {
        result = fn(...args);
      } catch (err) {
        if (isBusy(err)) return enqueue(name, fn, args);
        throw err;
      }
      if (result instanceof Promise) return result.catch((err: unknown) => (isBusy(err) ? enqueue(name, fn, args) : Promise.reject(err)));
      return result;
    };
  }
  return out as T;
}
