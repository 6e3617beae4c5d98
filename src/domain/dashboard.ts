/**
 * A user-composed dashboard: a named grid of widgets, each bound to a device and keys. Stored per
 * tenant; scenario packs ship one. Widgets bind devices by id; a pack names them and the
 * installer resolves the names.
 */
import { PlatformError } from './errors.js';
import type { JsonValue } from './telemetry.js';

export type WidgetType = 'chart' | 'gauge' | 'value' | 'map' | 'alarms' | 'control' | 'table' | 'bar' | 'timeline';
export const WIDGET_TYPES: readonly WidgetType[] = ['chart', 'gauge', 'value', 'map', 'alarms', 'control', 'table', 'bar', 'timeline'];
/** Widgets that read one device's telemetry: they need a deviceId. */
export const DEVICE_WIDGETS: readonly WidgetType[] = ['chart', 'gauge', 'value', 'table', 'bar', 'timeline'];

/** How a control widget looks: a button sends once, a toggle sends on/off, a slider sends a number. */
export type ControlKind = 'button' | 'toggle' | 'slider';

export interface ControlSpec {
  readonly kind: ControlKind;
  /** The RPC method sent to the device. */
  readonly method: string;
  /** Parameters sent with a button press; a toggle sends {on: boolean}, a slider {value: number}. */
  readonly params?: JsonValue;
  /** Telemetry or attribute key showing the current state of what the control drives. */
  readonly stateKey?: string;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
}

export interface Widget {
  readonly id: string;
  readonly type: WidgetType;
  readonly title: string;
  /** Device the widget reads or drives; absent for tenant-wide widgets (map of all, alarm list). */
  readonly deviceId?: string;
  readonly keys?: readonly string[];
  /** Gauge and chart bounds, units. */
  readonly min?: number;
  readonly max?: number;
  readonly unit?: string;
  /** Chart range, e.g. "1h", "24h", "7d". */
  readonly range?: string;
  readonly control?: ControlSpec;
  /** Grid placement in 12 columns. */
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface DashboardInput {
  readonly name: string;
  readonly description?: string;
  readonly widgets: readonly Widget[];
}

export interface Dashboard extends DashboardInput {
  readonly id: string;
  readonly tenantId: string;
  /** The customer it is assigned to (issue 15); set only through the customers API, never by saving. */
  readonly customerId?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A command control a device profile offers on every device of the profile (pump ON/OFF). */
export type ProfileControl = ControlSpec & { readonly label: string };

export const CONTROL_KINDS: readonly ControlKind[] = ['button', 'toggle', 'slider'];

/** The grid every dashboard lays widgets on. */
export const GRID_COLUMNS = 12;
export const MAX_WIDGET_ROWS = 100;

/** Checks what a schema cannot: a slider's bounds and step. Throws BAD_REQUEST naming the field. */
export function checkControl(control: ControlSpec, path: string): void {
  if (!CONTROL_KINDS.includes(control.kind)) throw new PlatformError('BAD_REQUEST', `${path}.kind must be one of ${CONTROL_KINDS.join(', ')}`);
  if (control.method.trim() === '') throw new PlatformError('BAD_REQUEST', `${path}.method is empty`);
  if (control.kind !== 'slider') return;
  const min = control.min ?? 0;
  const max = control.max ?? 100;
  if (!(min < max)) throw new PlatformError('BAD_REQUEST', `${path}: slider min (${min}) must be below max (${max})`);
  if (control.step !== undefined && !(control.step > 0)) throw new PlatformError('BAD_REQUEST', `${path}.step must be positive`);
}
