/**
 * What the engine needs from one simulated device's connection, whatever the protocol: keep
 * connected, send telemetry and client attributes, and hand incoming commands and shared
 * attribute updates back. Clients speak wire formats only; models never see them.
 */
import type { JsonValue } from '../../domain/telemetry.js';

export interface Counters {
  /** Devices whose connection is up (MQTT CONNACK accepted, CoAP observe registered, HTTP: last request succeeded). */
  connected: number;
  sent: number;
  acked: number;
  errors: number;
  commands: number;
  /** Readings not sent because the device already had MAX_IN_FLIGHT messages unacknowledged (the platform is not keeping up). */
  skipped: number;
  /** The device whose telemetry was acknowledged first: `continuum simulate` reads it back through the API. */
  firstAcked?: string;
}

/** Unacknowledged telemetry messages one device keeps at most, like firmware with a small send window. */
export const MAX_IN_FLIGHT = 10;

export interface LinkLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LinkHandlers {
  /** A server-side RPC: the result to send back (an `{error}` object when the model refused it). */
  command(method: string, params: JsonValue): JsonValue;
  /** Shared attributes pushed by the platform (or read once after connecting). */
  shared(values: Record<string, JsonValue>): void;
  /** Called on every (re)connection; the engine publishes client attributes from here. */
  connected(): void;
  /** A firmware chunk answered on `v2/fw/response/{requestId}/chunk/{n}` (MQTT links, `--ota`). */
  firmwareChunk?(requestId: string, chunk: number, data: Buffer): void;
}

export interface DeviceLink {
  readonly up: boolean;
  /** Telemetry messages sent and not yet acknowledged. */
  readonly pending: number;
  start(): void;
  /** Sends one telemetry message (JSON text); counted as sent, and as acked once the platform stored it. */
  telemetry(json: string): void;
  /** Sends client attributes (JSON text), acknowledged like telemetry but not counted as a message. */
  attributes(json: string): void;
  /** Asks for firmware chunk `chunk` of `size` bytes (MQTT: `v2/fw/request/{requestId}/chunk/{n}`); absent where the protocol has no such request here. */
  requestFirmwareChunk?(requestId: string, chunk: number, size: number): void;
  stop(): Promise<void>;
}

export interface LinkContext {
  readonly name: string;
  readonly token: string;
  readonly counters: Counters;
  readonly handlers: LinkHandlers;
  readonly log: LinkLog;
}

/** Reconnect delay after `attempt` failures: exponential from 1 s to 30 s, with ±50 % jitter so a fleet does not reconnect in step. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.5 + random()));
}

/** Parses a JSON body sent by the platform; undefined (and the caller logs) when it is not JSON. */
export function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

export function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
