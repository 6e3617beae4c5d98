/**
 * The decoder worker thread: runs user decoders in QuickJS (the in-thread QuickJsDecoders, with
 * its per-profile compiled cache) so that a decoder stuck inside a native built-in blocks this
 * thread, never the platform's event loop; the main thread's watchdog (worker-pool.ts) then
 * terminates it. Jobs of a batch run one after the other; the shared counter moves after each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PlatformError } from '../../../domain/errors.js';
import { QuickJsDecoders } from './quickjs-decoders.js';
import { quickJs } from './sandbox.js';
import { DONE, type FromWorker, type ToWorker, type WorkerData, type WorkerJob, type WorkerResult } from './worker-protocol.js';

const data = workerData as WorkerData;
const port = parentPort;
if (!port) throw new Error('worker-entry.ts runs only as a worker thread');
const progress = new Int32Array(data.progress);
const decoders = new QuickJsDecoders({
  ...(data.timeLimitMs !== undefined ? { timeLimitMs: data.timeLimitMs } : {}),
  ...(data.memoryLimitBytes !== undefined ? { memoryLimitBytes: data.memoryLimitBytes } : {}),
  ...(data.maxCompiled !== undefined ? { maxCompiled: data.maxCompiled } : {}),
});

async function run(job: WorkerJob): Promise<WorkerResult> {
  try {
    switch (job.op) {
      case 'check':
        return { ok: true, value: await decoders.check(job.source) };
      case 'decode':
        return { ok: true, value: await decoders.decode({ profileId: job.profileId, source: job.source }, job.input) };
      case 'encode':
        return { ok: true, value: await decoders.encode({ profileId: job.profileId, source: job.source }, job.data) };
    }
  } catch (err) {
    if (err instanceof PlatformError) return { ok: false, code: err.code, message: err.detail ?? err.message };
    return { ok: false, code: undefined, message: err instanceof Error ? err.message : String(err) };
  }
}

// Batches queue up in the port; one is worked off at a time, in order.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'forget') {
    chain = chain.then(() => decoders.forget(msg.profileId));
    return;
  }
  chain = chain.then(async () => {
    const results: WorkerResult[] = [];
    for (const job of msg.jobs) {
      results.push(await run(job));
      Atomics.add(progress, DONE, 1);
    }
    port.postMessage({ kind: 'results', results } satisfies FromWorker);
  });
});

// Ready once the WebAssembly module is compiled and warmed: that must not count against a job's deadline.
await quickJs();
port.postMessage({ kind: 'ready' } satisfies FromWorker);
