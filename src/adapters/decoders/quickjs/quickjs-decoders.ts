/**
 * The PayloadDecoders port on the QuickJS sandbox, in the calling thread: one compiled sandbox per
 * profile, kept while the profile's source stays the same, recompiled when it changes. The cache
 * is bounded: the least recently used sandbox is disposed past `maxCompiled`.
 *
 * It runs user code on whatever thread calls it, and a decoder stuck in a native built-in blocks
 * that thread for seconds: the platform uses it only inside a decoder worker (worker-entry.ts,
 * through WorkerQuickJsDecoders); elsewhere only for tests and the main-thread baseline of
 * bench/decoder-cost.ts.
 */
import type { DecodedUplink, DecoderSource, EncodedDownlink, PayloadDecoders, UplinkInput } from '../../../ports/payload-decoders.js';
import { compileSandbox, quickJs, type PayloadSandbox, type SandboxLimits } from './sandbox.js';

export interface QuickJsDecoderOptions extends SandboxLimits {
  /** Compiled profiles kept at once (default 500). */
  readonly maxCompiled?: number;
}

interface Compiled {
  readonly source: string;
  readonly sandbox: PayloadSandbox;
}

export class QuickJsDecoders implements PayloadDecoders {
  readonly enabled = true;
  private readonly compiled = new Map<string, Compiled>();

  constructor(private readonly options: QuickJsDecoderOptions = {}) {}

  async check(source: string): Promise<{ hasEncoder: boolean }> {
    const sandbox = compileSandbox(await quickJs(), source, this.options);
    try {
      return { hasEncoder: sandbox.hasEncoder };
    } finally {
      sandbox.dispose();
    }
  }

  async decode(decoder: DecoderSource, input: UplinkInput): Promise<DecodedUplink> {
    return (await this.sandboxFor(decoder)).decodeUplink(input);
  }

  async encode(decoder: DecoderSource, data: unknown): Promise<EncodedDownlink> {
    return (await this.sandboxFor(decoder)).encodeDownlink({ data });
  }

  forget(profileId: string): void {
    this.compiled.get(profileId)?.sandbox.dispose();
    this.compiled.delete(profileId);
  }

  close(): void {
    for (const id of [...this.compiled.keys()]) this.forget(id);
  }

  private async sandboxFor(decoder: DecoderSource): Promise<PayloadSandbox> {
    const found = this.compiled.get(decoder.profileId);
    if (found && found.source === decoder.source) {
      // Re-inserted: the Map's order is the recency order the eviction below reads.
      this.compiled.delete(decoder.profileId);
      this.compiled.set(decoder.profileId, found);
      return found.sandbox;
    }
    const qjs = await quickJs();
    // Another call may have compiled it while the module loaded.
    const again = this.compiled.get(decoder.profileId);
    if (again && again.source === decoder.source) return again.sandbox;
    this.forget(decoder.profileId);
    const sandbox = compileSandbox(qjs, decoder.source, this.options);
    this.compiled.set(decoder.profileId, { source: decoder.source, sandbox });
    const max = this.options.maxCompiled ?? 500;
    for (const id of this.compiled.keys()) {
      if (this.compiled.size <= max) break;
      this.forget(id);
    }
    return sandbox;
  }
}
