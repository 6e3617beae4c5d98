/** Small pure helpers the pack models share beside the simulator's signals: 0…1 daily shapes, rounding to 1 decimal. */
import { round as roundTo } from '../simulator/signals.js';

export { clamp, gaussian } from '../simulator/signals.js';

/** Hour of the (UTC) day of a simulated instant, fractional. */
export function hourOfDay(simNow: number): number {
  return (simNow / 3_600_000) % 24;
}

/** 0 at `peakHour − 12`, 1 at `peakHour`: a smooth daily cycle. */
export function daily(simNow: number, peakHour = 14): number {
  return (1 + Math.cos(((hourOfDay(simNow) - peakHour) / 24) * 2 * Math.PI)) / 2;
}

/** Daylight: 0 at night, a bell between 06:00 and 20:00 peaking at 13:00. */
export function daylight(simNow: number): number {
  const h = hourOfDay(simNow);
  return h < 6 || h > 20 ? 0 : Math.sin(((h - 6) / 14) * Math.PI);
}

/** Telemetry with one decimal unless told otherwise. */
export const round = (x: number, digits = 1): number => roundTo(x, digits);
export const HOUR = 3_600_000;
export const MINUTE = 60_000;
