/**
 * Raw device payloads: bytes a device of a profile with a payload decoder sends instead of JSON
 * (docs/DEVICE-API.md "Raw payloads"). The decoder's `data` becomes telemetry through the JSON
 * codec, so it is validated exactly like a JSON message (`{key: value}` or `{ts, values}`).
 *
 * Which messages are raw: an explicit application/octet-stream content type (HTTP, CoAP 42),
 * or, without a content type (MQTT), a payload the profile's codec refuses and that is not JSON
 * text. A JSON message the codec refuses stays refused for its own reason.
 */
import type { DeviceIdentity, TransportName } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { Point } from '../domain/telemetry.js';
import type { Codec, Logger } from '../ports.js';
import type { PayloadDecoders } from '../ports/payload-decoders.js';

export const OCTET_STREAM = 'application/octet-stream';

export function isOctetStream(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() === OCTET_STREAM;
}

/** JSON text, as the codec's own refusal must stand for it (checked only on the refusal path). */
export function isJsonText(payload: Buffer): boolean {
  try {
    JSON.parse(payload.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export interface RawPayloadDeps {
  readonly decoders: PayloadDecoders;
  /** The profile's decoder source, undefined when it has none (the registry's profile cache). */
  decoderOf(profileId: string): Promise<string | undefined>;
  /** Turns the decoder's data into points (the JSON codec). */
  readonly json: Codec;
  readonly logger: Logger;
  /** Counts a message the decoder refused (continuum_decoder_failures_total). */
  decoderFailure(transport: TransportName): void;
}

export class RawPayloads {
  constructor(private readonly deps: RawPayloadDeps) {}

  /** Whether the device's profile carries a decoder. */
  async hasDecoder(identity: DeviceIdentity): Promise<boolean> {
    return this.deps.decoders.enabled && (await this.deps.decoderOf(identity.profileId)) !== undefined;
  }

  /** Decodes bytes into points; throws UNSUPPORTED_CONTENT without a decoder, MALFORMED_PAYLOAD when it fails. */
  async decode(identity: DeviceIdentity, payload: Buffer, transport: TransportName, now: number): Promise<Point[]> {
    const source = this.deps.decoders.enabled ? await this.deps.decoderOf(identity.profileId) : undefined;
    if (source === undefined) throw new PlatformError('UNSUPPORTED_CONTENT', 'raw payload, and the device profile has no decoder');
    let data: Record<string, unknown>;
    try {
      ({ data } = await this.deps.decoders.decode({ profileId: identity.profileId, source }, { bytes: [...payload] }));
    } catch (err) {
      this.deps.decoderFailure(transport);
      this.deps.logger.warn(
        { deviceId: identity.deviceId, device: identity.name, profileId: identity.profileId, transport, reason: err instanceof Error ? err.message : String(err) },
        'payload decoder failed',
      );
      throw err instanceof PlatformError ? err : new PlatformError('MALFORMED_PAYLOAD', 'payload decoder failed', { cause: err });
    }
    return this.deps.json.decodeTelemetry(Buffer.from(JSON.stringify(data)), now);
  }
}
