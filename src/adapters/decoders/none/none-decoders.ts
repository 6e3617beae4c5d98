import { PlatformError } from '../../../domain/errors.js';
import type { PayloadDecoders } from '../../../ports/payload-decoders.js';

/** Decoders switched off: a profile cannot carry one, raw payloads are refused as unsupported. */
export const NO_PAYLOAD_DECODERS: PayloadDecoders = {
  enabled: false,
  check: () => Promise.reject(new PlatformError('BAD_REQUEST', 'payload decoders are not enabled on this platform')),
  decode: () => Promise.reject(new PlatformError('UNSUPPORTED_CONTENT', 'payload decoders are not enabled')),
  encode: () => Promise.reject(new PlatformError('BAD_REQUEST', 'payload decoders are not enabled')),
  forget: () => undefined,
  close: () => undefined,
};
