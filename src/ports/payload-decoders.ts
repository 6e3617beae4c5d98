/**
 * Payload decoders: a device profile may carry user code (TTN convention) that turns a device's
 * raw bytes into telemetry (`decodeUplink`) and a command's params into bytes (`encodeDownlink`).
 * The code is untrusted: an implementation runs it isolated, with time and memory limits, and
 * reports every failure of the code as MALFORMED_PAYLOAD (never as INTERNAL).
 */

export interface UplinkInput {
  readonly bytes: readonly number[];
  readonly fPort?: number;
}

export interface DecodedUplink {
  readonly data: Record<string, unknown>;
  readonly warnings?: string[];
  readonly errors?: string[];
}

export interface EncodedDownlink {
  readonly bytes: number[];
  readonly fPort?: number;
}

/** The profile's decoder: its id keys the compiled code, the source says what to compile. */
export interface DecoderSource {
  readonly profileId: string;
  readonly source: string;
}

export interface PayloadDecoders {
  /** Whether decoders run at all (a no-op implementation answers false). */
  readonly enabled: boolean;
  /** Compiles `source` to check it; throws BAD_REQUEST with the compiler's message. */
  check(source: string): Promise<{ hasEncoder: boolean }>;
  /** Throws MALFORMED_PAYLOAD when the code fails, loops, allocates past its limit or reports errors. */
  decode(decoder: DecoderSource, input: UplinkInput): Promise<DecodedUplink>;
  /** Throws BAD_REQUEST when the code has no encodeDownlink, MALFORMED_PAYLOAD when it fails. */
  encode(decoder: DecoderSource, data: unknown): Promise<EncodedDownlink>;
  /** Drops compiled code (a profile's decoder changed or the profile went away). */
  forget(profileId: string): void;
  close(): void;
}
