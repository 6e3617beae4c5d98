/**
 * A scenario pack: one of the source documents' use cases as something the platform runs — device
 * profiles, rules, a dashboard and the simulator models that play the devices. Packs are data
 * plus models; `install.ts` turns one into REST calls against a running platform, and the
 * simulator plays its device groups.
 */
import type { ControlSpec, Widget } from '../domain/dashboard.js';
import type { TelemetryKeySpec } from '../domain/device.js';
import type { RuleInput } from '../domain/rules/model.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { DeviceModel } from '../simulator/model.js';

export type SimProtocol = 'mqtt' | 'coap' | 'http';

export interface PackProfile {
  readonly name: string;
  readonly codec?: string;
  readonly telemetryKeys?: readonly TelemetryKeySpec[];
  /** Command widgets the dashboard offers on every device of this profile (pump ON/OFF). */
  readonly controls?: readonly (ControlSpec & { readonly label: string })[];
}

/** `count` devices named `${prefix}-1` … played by one model. */
export interface PackDeviceGroup {
  readonly prefix: string;
  readonly profile: string;
  readonly model: string;
  /** Devices installed and simulated by default (the demo); `--devices N` scales every group. */
  readonly count: number;
  readonly protocol?: SimProtocol;
  readonly label?: string;
  /** Seconds between readings of one device (wall clock; default 1). */
  readonly intervalS?: number;
  /** Readings per message: metering devices collect several and send them as one [{ts, values}] batch. */
  readonly batch?: number;
  readonly serverAttributes?: Readonly<Record<string, JsonValue>>;
  readonly sharedAttributes?: Readonly<Record<string, JsonValue>>;
}

/** A rule bound to a pack profile (every device of it) or one pack device, by name. */
export type PackRule = Omit<RuleInput, 'deviceId' | 'profileId'> & { readonly profile?: string; readonly device?: string };

export type PackWidget = Omit<Widget, 'deviceId' | 'id'> & { readonly device?: string };

export interface ScenarioPack {
  readonly name: string;
  readonly title: string;
  /** What the pack shows, one paragraph. */
  readonly summary: string;
  /** The same use case done the M2M way, and what the difference illustrates. */
  readonly m2m: string;
  readonly profiles: readonly PackProfile[];
  readonly devices: readonly PackDeviceGroup[];
  readonly rules: readonly PackRule[];
  readonly dashboard: { readonly name: string; readonly description?: string; readonly widgets: readonly PackWidget[] };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model has its own state type
  readonly models: Readonly<Record<string, DeviceModel<any>>>;
  /** Simulated clock speed for the demo (default 1). */
  readonly demoSpeed?: number;
  /** The rule whose firing proves the pack works, and what it leaves behind (its end-to-end test checks it). */
  readonly characteristic: { readonly rule: string; readonly alarm?: string; readonly command?: string };
  /** The runnable M2M twin (`--demo NAME --m2m`): field devices behind the edge gateway. */
  readonly twin?: PackTwin;
}

/**
 * The pack's M2M form run for real: simulated field devices on their own protocol, the edge
 * gateway (its config file) bridging them, and platform rules on the edge's child devices. The
 * installer creates the children (attached to the twin's gateway, with their profiles) before
 * the edge connects, so the rules bind by profile. Which simulator plays the field devices is
 * the app's business (src/apps/m2m/).
 */
export interface PackTwin {
  /** The field protocol and devices, one line (the demo's banner). */
  readonly summary: string;
  /** Edge configuration, relative to the repository root. */
  readonly edgeConfig: string;
  readonly profiles: readonly PackProfile[];
  /** The edge config's devices (names as there) and the profile each gets on the platform. */
  readonly children: readonly { readonly name: string; readonly profile: string }[];
  /** Platform rules on the twin's profiles (none when the twin decides locally, on the edge). */
  readonly rules: readonly PackRule[];
  /** The child device, rule and command that prove the loop (field → edge → platform → rule → field). */
  readonly characteristic: { readonly device: string; readonly rule?: string; readonly command?: string; readonly key: string };
}
