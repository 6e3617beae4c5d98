import type { Codec } from '../../../ports.js';
import { decodeJsonObject, decodeJsonTelemetry } from '../../../protocols/json/telemetry.js';

/** The Codec port over ThingsBoard's JSON forms; the parsing itself is protocols/json/telemetry.ts. */
export const jsonCodec: Codec = {
  name: 'json',
  contentTypes: ['application/json', 'text/plain'],
  decodeTelemetry: decodeJsonTelemetry,
  decodeAttributes: (payload) => decodeJsonObject(payload, 'attributes'),
};
