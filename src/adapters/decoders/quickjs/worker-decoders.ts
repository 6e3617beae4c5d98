/**
 * The PayloadDecoders port on QuickJS in worker threads (worker-pool.ts): what the platform uses.
 * User code never runs on the event loop, so a decoder stuck in a native built-in (which QuickJS's
 * interrupt cannot stop) costs a worker restart, not the platform's responsiveness.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { DecodedUplink, DecoderSource, EncodedDownlink, PayloadDecoders, UplinkInput } from '../../../ports/payload-decoders.js';
import { DecoderWorkerPool, type DecoderPoolOptions } from './worker-pool.js';
import type { WorkerJob } from './worker-protocol.js';

/** What a downlink's data may weigh as JSON (a command's params are bounded far below this). */
const MAX_DOWNLINK_JSON = 256 * 1024;

export class WorkerQuickJsDecoders implements PayloadDecoders {
  readonly enabled = true;
  readonly pool: DecoderWorkerPool;

  constructor(options: DecoderPoolOptions = {}) {
    this.pool = new DecoderWorkerPool(options);
  }

  check(source: string): Promise<{ hasEncoder: boolean }> {
    return this.call({ op: 'check', source }) as Promise<{ hasEncoder: boolean }>;
  }

  decode(decoder: DecoderSource, input: UplinkInput): Promise<DecodedUplink> {
    // Plain fields only: whatever else the caller's object carries stays on this thread.
    const plain: UplinkInput = input.fPort === undefined ? { bytes: [...input.bytes] } : { bytes: [...input.bytes], fPort: input.fPort };
    return this.call({ op: 'decode', profileId: decoder.profileId, source: decoder.source, input: plain }) as Promise<DecodedUplink>;
  }

  encode(decoder: DecoderSource, data: unknown): Promise<EncodedDownlink> {
    // As JSON, which is what the sandbox hands the code anyway: nothing that cannot cross threads.
    let text: string;
    try {
      text = JSON.stringify(data ?? null);
    } catch (err) {
      return Promise.reject(new PlatformError('BAD_REQUEST', `downlink data is not JSON: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (text.length > MAX_DOWNLINK_JSON) return Promise.reject(new PlatformError('BAD_REQUEST', `downlink data is ${text.length} characters of JSON; at most ${MAX_DOWNLINK_JSON}`));
    return this.call({ op: 'encode', profileId: decoder.profileId, source: decoder.source, data: JSON.parse(text) as unknown }) as Promise<EncodedDownlink>;
  }

  forget(profileId: string): void {
    this.pool.forget(profileId);
  }

  close(): void {
    this.pool.close();
  }

  private async call(job: WorkerJob): Promise<unknown> {
    const result = await this.pool.run(job);
    if (result.ok) return result.value;
    if (result.code) throw new PlatformError(result.code, result.message);
    throw new Error(result.message);
  }
}
