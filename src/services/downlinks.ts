/**
 * Downlinks through the profile's decoder: a command (server-side RPC) for a device whose
 * profile's decoder defines `encodeDownlink` goes out as the bytes that function makes of
 * `{method, params}` (the JSON the device would otherwise receive), on the sending node, before
 * the request is on the bus. A failing encoder fails the command with its reason
 * (MALFORMED_PAYLOAD); nothing is sent then.
 */
import { PlatformError } from '../domain/errors.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { PayloadDecoders } from '../ports/payload-decoders.js';

export interface DownlinkEncoderDeps {
  readonly decoders: PayloadDecoders;
  /** The device's profile id and decoder source (undefined: unknown device or no decoder). */
  decoderOf(deviceId: string): Promise<{ profileId: string; source: string } | undefined>;
}

export interface DownlinkRequest {
  readonly deviceId: string;
  readonly method: string;
  readonly params: JsonValue;
}

/** Read cheaply before a worker is asked: most decoders have no encoder. */
const MENTIONS_ENCODER = /\bencodeDownlink\b/;

export class DownlinkEncoder {
  constructor(private readonly deps: DownlinkEncoderDeps) {}

  /** The bytes for the device, or undefined when its profile has no encodeDownlink (JSON then). */
  async encode(req: DownlinkRequest): Promise<Buffer | undefined> {
    if (!this.deps.decoders.enabled) return undefined;
    const decoder = await this.deps.decoderOf(req.deviceId);
    if (!decoder || !MENTIONS_ENCODER.test(decoder.source)) return undefined;
    try {
      const out = await this.deps.decoders.encode({ profileId: decoder.profileId, source: decoder.source }, { method: req.method, params: req.params });
      return Buffer.from(out.bytes);
    } catch (err) {
      // The name appears only in a comment or a string: no encoder, the device gets JSON.
      if (err instanceof PlatformError && err.code === 'BAD_REQUEST' && /no encodeDownlink/.test(err.message)) return undefined;
      throw err;
    }
  }
}
