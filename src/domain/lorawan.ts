/**
 * LoRaWAN network-server integrations (issue 18 item 3): what ChirpStack v4 and The Things Stack
 * v3 tell us, in one neutral shape the service handles, and what we ask them to send. The
 * connectors (adapters/integrations/chirpstack/, tts/) turn each server's JSON into these; the
 * service (services/integrations/lorawan.ts) binds devices, decodes and ingests. Pure: no I/O.
 */

/** Radio metadata of the best gateway that heard an uplink. */
export interface LorawanRadio {
  readonly rssi?: number;
  readonly snr?: number;
}

/** Who the network server says a message is about. */
export interface LorawanDeviceRef {
  /** 16 lowercase hex digits. */
  readonly devEui: string;
  /** The device's name (ChirpStack `deviceInfo.deviceName`) or id (TTS `end_device_ids.device_id`) on the network server. */
  readonly nsDeviceId?: string;
}

export type LorawanEvent =
  | (LorawanDeviceRef & {
      readonly kind: 'up';
      readonly fPort?: number;
      readonly fCnt?: number;
      /** The application payload (FRMPayload) as received; absent on an empty frame. */
      readonly bytes?: Uint8Array;
      /** What the network server's own codec decoded, when it has one. */
      readonly object?: Record<string, unknown>;
      readonly radio: LorawanRadio;
      /** When it was received (epoch ms), if the server said. */
      readonly time?: number;
    })
  | (LorawanDeviceRef & { readonly kind: 'join'; readonly devAddr?: string; readonly time?: number })
  | (LorawanDeviceRef & { readonly kind: 'status'; readonly margin?: number; readonly batteryLevel?: number; readonly externalPower?: boolean; readonly time?: number })
  /** A confirmed downlink was acknowledged by the device (or not: it timed out / was nacked). */
  | (LorawanDeviceRef & { readonly kind: 'ack'; readonly downlinkId: string; readonly acknowledged: boolean })
  /** A gateway took the downlink for transmission. */
  | (LorawanDeviceRef & { readonly kind: 'txack'; readonly downlinkId: string })
  /** The server gave up on the downlink (TTS `down/failed`). */
  | (LorawanDeviceRef & { readonly kind: 'failed'; readonly downlinkId: string; readonly reason: string });

export type LorawanEventKind = LorawanEvent['kind'];

/** A downlink to queue at the network server. */
export interface LorawanDownlink extends LorawanDeviceRef {
  /** Ours (a UUID): the server echoes it in its ack/txack events (ChirpStack queue item id, TTS correlation id). */
  readonly id: string;
  readonly fPort: number;
  readonly bytes: Uint8Array;
  readonly confirmed: boolean;
}

/** How a Continuum device is found for a network-server device (docs/INTEGRATIONS.md "LoRaWAN"). */
export type LorawanBindBy = 'devEui' | 'deviceName';

const EUI64 = /^[0-9a-fA-F]{16}$/;

/** A DevEUI in its canonical form (lowercase hex), or undefined when it is not one. */
export function normalDevEui(value: unknown): string | undefined {
  return typeof value === 'string' && EUI64.test(value) ? value.toLowerCase() : undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 text as bytes; undefined when it is not base64 (Buffer.from would silently skip bad characters). */
export function base64Bytes(value: unknown, maxBytes = 512): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value) || value.length > Math.ceil(maxBytes / 3) * 4) return undefined;
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** An ISO 8601 time as epoch ms; undefined when absent or unreadable. */
export function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A LoRaWAN application port: 1..223 carry application data (0 is MAC commands, 224+ reserved). */
export function isAppPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 223;
}

/** The gateway with the strongest signal among those that heard the frame. */
export function bestRadio(rx: readonly { rssi?: unknown; snr?: unknown }[]): LorawanRadio {
  let best: LorawanRadio = {};
  for (const r of rx.slice(0, 64)) {
    const rssi = finiteNumber(r.rssi);
    const snr = finiteNumber(r.snr);
    if (rssi === undefined && snr === undefined) continue;
    if (best.rssi === undefined || (rssi !== undefined && rssi > best.rssi)) best = { ...(rssi !== undefined ? { rssi } : {}), ...(snr !== undefined ? { snr } : {}) };
  }
  return best;
}

/** Whether a value is a plain JSON object (what a decoded `object` must be). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
