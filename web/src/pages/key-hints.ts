/**
 * A profile's display hints for a telemetry key (`telemetryKeys[].label`, `.decimals`): the name
 * people read instead of the key, and how many decimals a number is shown with. Values stay text.
 */
import { formatValue } from '../dom.js';

export interface KeyHint {
  readonly key: string;
  readonly label?: string;
  readonly decimals?: number;
}

export function formatHinted(value: unknown, hint: KeyHint | undefined): string {
  const d = hint?.decimals;
  if (d === undefined || typeof value !== 'number' || !Number.isFinite(value)) return formatValue(value);
  return value.toLocaleString(undefined, { minimumFractionDigits: d, maximumFractionDigits: d });
}
