/**
 * A small pool of decoder worker threads with a watchdog. QuickJS's interrupt handler is not
 * consulted inside native built-ins, so a decoder allocating in `String.prototype.repeat`, a huge
 * `Array`, `JSON.stringify` or a backtracking regex may hold its thread for seconds. Here that
 * thread is a worker: the main thread never waits on it, and when a job makes no progress within
 * its deadline (2 × the time limit + a margin; compiling gets the compile limit likewise) the
 * worker is terminated, that job answered "time limit", the rest of its batch queued again, and a
 * fresh worker started (which compiles again what it is asked for).
 *
 * Jobs queue here and go out in batches: one message per batch and one reply per batch, so the
 * common path pays one thread round trip per batch. Progress is a shared counter (see
 * worker-protocol.ts), read by the watchdog without a message.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { ErrorCode } from '../../../domain/errors.js';
import type { Logger } from '../../../ports.js';
import type { SandboxLimits } from './sandbox.js';
import { DONE, type FromWorker, type ToWorker, type WorkerData, type WorkerJob, type WorkerResult } from './worker-protocol.js';

export interface DecoderPoolOptions extends SandboxLimits {
  /** Compiled profiles a worker keeps (default 500). */
  readonly maxCompiled?: number;
  /** Worker threads (default 2: one keeps serving while the other restarts). */
  readonly workers?: number;
  /** Added to twice the time limit before a stuck worker is terminated (default 100 ms). */
  readonly marginMs?: number;
  /** Jobs per message at most (default 64). */
  readonly maxBatch?: number;
  /** V8 heap limits of each worker (the QuickJS heap is bounded by memoryLimitBytes). */
  readonly resourceLimits?: ResourceLimits;
  readonly logger?: Pick<Logger, 'warn'>;
  /** Called when a worker is replaced: `time_limit`, `memory_limit` or `crashed`. */
  readonly onRestart?: (reason: string) => void;
}

interface Pending {
  readonly job: WorkerJob;
  readonly resolve: (result: WorkerResult) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly progress: Int32Array;
  ready: boolean;
  dead: boolean;
  batch: Pending[] | undefined;
  /** The counter when the batch went out, and when the watchdog last looked. */
  base: number;
  seen: number;
  timer: NodeJS.Timeout | undefined;
  /** What this worker has compiled, as far as the main thread knows: decides a job's deadline. */
  readonly compiled: Map<string, string>;
}

const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

/**
 * The worker's entry module. Under tsx (the sources run as TypeScript, bin/continuum.mjs) the
 * thread registers tsx itself: module hooks of the main thread do not reach workers.
 */
function entry(): { url: string; tsx: string | undefined } {
  const ts = import.meta.url.endsWith('.ts');
  return { url: new URL(ts ? './worker-entry.ts' : './worker-entry.js', import.meta.url).href, tsx: ts ? import.meta.resolve('tsx/esm/api') : undefined };
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => { throw err; });
`;

export class DecoderWorkerPool {
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Pending[] = [];
  private closed = false;
  private readonly timeLimitMs: number;

  constructor(private readonly options: DecoderPoolOptions = {}) {
    this.slots = new Array<Slot | undefined>(Math.max(1, options.workers ?? 2)).fill(undefined);
    this.timeLimitMs = options.timeLimitMs ?? 50;
  }

  /** Runs a job on a worker; resolves with its result (failures of the user code included). */
  run(job: WorkerJob): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new Error('payload decoders are closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  /** Drops a profile's compiled code in every worker. */
  forget(profileId: string): void {
    for (const slot of this.slots) {
      if (!slot || slot.dead) continue;
      slot.compiled.delete(profileId);
      slot.worker.postMessage({ kind: 'forget', profileId } satisfies ToWorker);
    }
  }

  close(): void {
    this.closed = true;
    const err = new Error('payload decoders are closed');
    for (const slot of this.slots) {
      if (!slot) continue;
      this.retire(slot);
      for (const p of slot.batch ?? []) p.reject(err);
    }
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  /** Workers alive now (tests: a stuck one was replaced). */
  get threadIds(): number[] {
    return this.slots.filter((s): s is Slot => s !== undefined && !s.dead).map((s) => s.worker.threadId);
  }

  private pump(): void {
    if (this.closed) return;
    for (let i = 0; i < this.slots.length && this.queue.length > 0; i++) {
      const slot = this.slots[i];
      if (!slot) {
        // Started on demand: a platform whose profiles have no decoder runs no worker.
        this.slots[i] = this.spawn();
        continue;
      }
      if (!slot.ready || slot.dead || slot.batch) continue;
      const batch = this.queue.splice(0, this.options.maxBatch ?? 64);
      slot.batch = batch;
      slot.base = slot.seen = Atomics.load(slot.progress, DONE);
      try {
        slot.worker.postMessage({ kind: 'batch', jobs: batch.map((p) => p.job) } satisfies ToWorker);
      } catch (err) {
        // Only plain data reaches here (worker-decoders.ts); should a job still not clone, it alone fails.
        slot.batch = undefined;
        this.queue.unshift(...batch.filter((p) => this.clones(p, err)));
        i--;
        continue;
      }
      this.arm(slot);
    }
  }

  private clones(p: Pending, err: unknown): boolean {
    try {
      structuredClone(p.job);
      return true;
    } catch {
      p.reject(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  /** How long the job the worker is on may go without progress. */
  private deadline(slot: Slot, p: Pending | undefined): number {
    const call = this.timeLimitMs * 2 + (this.options.marginMs ?? 100);
    if (!p) return call;
    const compiles = p.job.op === 'check' || slot.compiled.get(p.job.profileId) !== p.job.source;
    // Loading a source gets ten calls' time in the sandbox (sandbox.ts), so its deadline too.
    return compiles ? this.timeLimitMs * 20 + (this.options.marginMs ?? 100) : call;
  }

  private arm(slot: Slot): void {
    const current = slot.batch?.[slot.seen - slot.base];
    slot.timer = setTimeout(() => this.watch(slot), this.deadline(slot, current));
  }

  private watch(slot: Slot): void {
    slot.timer = undefined;
    if (slot.dead || !slot.batch) return;
    const done = Atomics.load(slot.progress, DONE);
    if (done > slot.seen || done - slot.base >= slot.batch.length) {
      // Moving (the deadline starts again for the job it is on now), or finished with its reply on the way.
      slot.seen = done;
      this.arm(slot);
      return;
    }
    this.replace(slot, done - slot.base, 'time_limit', `stopped after ${this.deadline(slot, slot.batch[done - slot.base])} ms (time limit; its worker was restarted)`);
  }

  /**
   * Ends a worker whose job `stuck` (index in its batch) went wrong: that job is answered with
   * `message`, every other job of the batch goes back to the front of the queue (a finished one
   * whose reply was lost with the worker runs again: decoding is a pure function of its input).
   */
  private replace(slot: Slot, stuck: number, reason: string, message: string): void {
    const index = this.slots.indexOf(slot);
    this.retire(slot);
    const batch = slot.batch ?? [];
    slot.batch = undefined;
    const culprit = batch[stuck];
    this.queue.unshift(...batch.filter((_, i) => i !== stuck));
    if (culprit) {
      const code: ErrorCode = culprit.job.op === 'check' ? 'BAD_REQUEST' : 'MALFORMED_PAYLOAD';
      culprit.resolve({ ok: false, code, message: `${culprit.job.op === 'encode' ? 'encodeDownlink' : culprit.job.op === 'decode' ? 'decodeUplink' : 'decoder source'}: ${message}` });
    }
    this.options.logger?.warn({ reason, threadId: slot.worker.threadId, requeued: batch.length - (culprit ? 1 : 0) }, 'payload decoder worker replaced');
    this.options.onRestart?.(reason);
    if (index >= 0) this.slots[index] = undefined;
    this.pump();
  }

  private retire(slot: Slot): void {
    slot.dead = true;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    void slot.worker.terminate();
  }

  private spawn(): Slot {
    const { url, tsx } = entry();
    const progress = new SharedArrayBuffer(4);
    const data: WorkerData & { entry: string; tsx: string | undefined } = {
      progress,
      entry: url,
      tsx,
      ...(this.options.timeLimitMs !== undefined ? { timeLimitMs: this.options.timeLimitMs } : {}),
      ...(this.options.memoryLimitBytes !== undefined ? { memoryLimitBytes: this.options.memoryLimitBytes } : {}),
      ...(this.options.maxCompiled !== undefined ? { maxCompiled: this.options.maxCompiled } : {}),
    };
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: data,
      resourceLimits: this.options.resourceLimits ?? DEFAULT_RESOURCE_LIMITS,
      // The worker's output is the platform's, not the user code's (QuickJS has no console).
      stdout: false,
      stderr: false,
      execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
    });
    // A pool with nothing to do does not keep the process alive; a batch's watchdog timer does.
    worker.unref();
    const slot: Slot = { worker, progress: new Int32Array(progress), ready: false, dead: false, batch: undefined, base: 0, seen: 0, timer: undefined, compiled: new Map() };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err: Error & { code?: string }) => this.onFailure(slot, err));
    worker.on('exit', (code) => this.onFailure(slot, new Error(`decoder worker exited with code ${code}`)));
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (slot.dead) return;
    if (msg.kind === 'ready') {
      slot.ready = true;
      this.pump();
      return;
    }
    const batch = slot.batch ?? [];
    slot.batch = undefined;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    batch.forEach((p, i) => {
      const job = p.job;
      if (job.op !== 'check') {
        slot.compiled.delete(job.profileId);
        slot.compiled.set(job.profileId, job.source);
        const max = this.options.maxCompiled ?? 500;
        if (slot.compiled.size > max) slot.compiled.delete(slot.compiled.keys().next().value as string);
      }
      p.resolve(msg.results[i] ?? { ok: false, code: undefined, message: 'no result from the decoder worker' });
    });
    this.pump();
  }

  private onFailure(slot: Slot, err: Error & { code?: string }): void {
    if (slot.dead) return;
    if (!slot.ready) {
      // It never came up (broken install, bad resource limits): fail what waits, try again on the next job.
      const index = this.slots.indexOf(slot);
      this.retire(slot);
      if (index >= 0) this.slots[index] = undefined;
      this.options.logger?.warn({ err }, 'payload decoder worker failed to start');
      // Another worker still serves: the queue waits for it.
      if (this.slots.some((s) => s !== undefined && !s.dead)) return;
      const failure = new Error(`payload decoder worker failed to start: ${err.message}`, { cause: err });
      for (const p of this.queue.splice(0)) p.reject(failure);
      return;
    }
    const stuck = Atomics.load(slot.progress, DONE) - slot.base;
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') this.replace(slot, stuck, 'memory_limit', "stopped at the worker's memory limit (its worker was restarted)");
    else this.replace(slot, stuck, 'crashed', `the decoder worker failed (${err.message}); it was restarted`);
  }
}
