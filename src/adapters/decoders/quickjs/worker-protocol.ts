/**
 * What the main thread and a decoder worker (worker-entry.ts) say to each other. Jobs travel in
 * batches (one message for whatever queued up meanwhile, one reply per batch) so the common path
 * pays one message round trip per batch, not per message. Progress is a shared counter the
 * worker bumps after every job: the main thread's watchdog reads it without a message, which
 * works even while the worker is stuck inside a native call.
 */
import type { DecodedUplink, EncodedDownlink, UplinkInput } from '../../../ports/payload-decoders.js';
import type { ErrorCode } from '../../../domain/errors.js';
import type { SandboxLimits } from './sandbox.js';

export type WorkerJob =
  | { readonly op: 'check'; readonly source: string }
  | { readonly op: 'decode'; readonly profileId: string; readonly source: string; readonly input: UplinkInput }
  | { readonly op: 'encode'; readonly profileId: string; readonly source: string; readonly data: unknown };

export type WorkerResult =
  | { readonly ok: true; readonly value: { hasEncoder: boolean } | DecodedUplink | EncodedDownlink }
  | { readonly ok: false; readonly code: ErrorCode | undefined; readonly message: string };

/** Main → worker. */
export type ToWorker = { readonly kind: 'batch'; readonly jobs: readonly WorkerJob[] } | { readonly kind: 'forget'; readonly profileId: string };

/** Worker → main. */
export type FromWorker = { readonly kind: 'ready' } | { readonly kind: 'results'; readonly results: readonly WorkerResult[] };

export interface WorkerData extends SandboxLimits {
  readonly maxCompiled?: number;
  /** Int32Array over it: [0] = jobs finished since the worker started. */
  readonly progress: SharedArrayBuffer;
}

/** Index of the finished-jobs counter in the progress array. */
export const DONE = 0;
