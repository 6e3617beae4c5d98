/** Messages between the bench (parent) and a load generator or sink child, over fork IPC. */
import type { HistogramJson } from '../lib/histogram.js';

export interface Target {
  readonly host: string;
  readonly port: number;
}

export type LoadCommand =
  /** Opens one MQTT connection per token (CONNECT with the token as user name), `concurrency` at a time. */
  | { readonly cmd: 'mqtt-connect'; readonly target: Target; readonly tokens: readonly string[]; readonly concurrency: number; readonly localAddresses?: readonly string[]; readonly window: number }
  /** Opens the one subscriber connection that counts what a broker forwards. */
  | { readonly cmd: 'mqtt-subscribe'; readonly target: Target; readonly topic: string }
  /** Publishes from every open connection: `rate` msgs/s in total, or as fast as the windows allow. */
  | { readonly cmd: 'mqtt-run'; readonly run: RunSpec }
  | { readonly cmd: 'http-run'; readonly target: Target; readonly tokens: readonly string[]; readonly sockets: number; readonly run: RunSpec }
  | { readonly cmd: 'coap-run'; readonly target: Target; readonly tokens: readonly string[]; readonly window: number; readonly run: RunSpec }
  | { readonly cmd: 'close' };

export interface RunSpec {
  readonly durationMs: number;
  /** Total messages per second over all devices; absent = closed loop, windows kept full. */
  readonly rate?: number;
  /** Messages in flight per connection at most in this run (≤ the window given at connect). */
  readonly window?: number;
  /** After the deadline: how long to wait for the outstanding acknowledgements. */
  readonly drainMs: number;
  /** Milliseconds since the epoch that device timestamps start from (ts = base + sequence). */
  readonly tsBase: number;
}

export interface RunResult {
  readonly elapsedMs: number;
  readonly sent: number;
  /** Acknowledged before the deadline: the throughput figure. */
  readonly ackedInWindow: number;
  /** Acknowledged in total, including the drain after the deadline. */
  readonly acked: number;
  readonly failed: number;
  /** Sent but never acknowledged (drain timed out or connection lost). */
  readonly outstanding: number;
  readonly latency: HistogramJson;
  /** Per device (token order): acknowledged messages and the sum of their pulseCounter values. */
  readonly perDevice: { readonly acked: number[]; readonly pulseSum: number[] };
  /** What the subscriber received (broker reference runs only). */
  readonly received?: number;
  readonly receivedInWindow?: number;
}

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly firstError?: string;
}

export type LoadReply =
  | { readonly ok: true; readonly result: RunResult | ConnectResult | Record<string, never> }
  | { readonly ok: false; readonly error: string };

/** The first message a sink child sends: where it listens. */
export interface SinkReady {
  readonly port: number;
}

/** Smart-meter payload (ThingsBoard form with the device's timestamp): 3 data points. */
export function meterPayload(ts: number, seq: number): string {
  return `{"ts":${ts},"values":{"pulseCounter":${seq},"leakage":${seq % 1000 === 0},"batteryLevel":${100 - (seq % 100)}}}`;
}

export const POINTS_PER_MESSAGE = 3;
