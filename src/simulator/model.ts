/**
 * What a simulated device is: a small state machine the simulator steps on a schedule. A model
 * knows nothing of protocols; the simulator sends what `step` returns as telemetry over MQTT,
 * CoAP or HTTP and routes the device's commands to `command`.
 *
 * Two clocks: messages carry the wall-clock time (`now`), while the physics runs on a simulated
 * clock (`simNow`) that goes `speed` times faster, so a demo shows a day's irrigation cycle in
 * minutes without sending timestamps from the future.
 */
import type { JsonValue } from '../domain/telemetry.js';

export type Values = Record<string, JsonValue>;

export interface SimContext {
  /** 0-based position of the device in its group; spreads phases and locations over a fleet. */
  readonly index: number;
  /** The device's name on the platform. */
  readonly name: string;
  /** Seeded per device: the same name gives the same signal in every run. */
  readonly random: () => number;
  /** How much faster the simulated clock runs than the wall clock (1 = real time). */
  readonly speed: number;
}

export interface StepTime {
  /** Wall-clock epoch ms: the timestamp the reading is sent with. */
  readonly now: number;
  /** Simulated epoch ms (starts at the wall clock, runs `speed` times faster). */
  readonly simNow: number;
  /** Simulated ms since the previous step of this device (0 on the first step). */
  readonly dtSimMs: number;
}

/** A command a model does not know, or whose parameters it refuses: the simulator answers with an RPC error. */
export class CommandRejected extends Error {}

export interface DeviceModel<S = unknown> {
  /** Initial state of one device. */
  init(ctx: SimContext, now: number): S;
  /** Advances the device to `time` and returns the telemetry to send now (may be empty: nothing to report). */
  step(state: S, time: StepTime, ctx: SimContext): Values;
  /** Runs a command (a pump turns on, a valve closes) and returns the reply; throws CommandRejected. */
  command?(state: S, method: string, params: JsonValue, ctx: SimContext): JsonValue;
  /** Client-side attributes published once after connecting (model, firmware version). */
  attributes?(state: S, ctx: SimContext): Values;
  /** Shared attributes pushed by the platform (set points, configuration). */
  sharedAttributes?(state: S, attributes: Values, ctx: SimContext): void;
}

/** Helper so a pack can declare a model with its state type inferred. */
export function defineModel<S>(model: DeviceModel<S>): DeviceModel<S> {
  return model;
}
