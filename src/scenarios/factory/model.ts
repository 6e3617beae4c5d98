/**
 * A motor with a rolling bearing that wears out. Healthy vibration is ~2 mm/s RMS; once wear sets
 * in, vibration and bearing temperature rise with the square of the wear until the bearing seizes
 * (wear 1): the motor stops, as a real one would. Predictive maintenance is catching the rise
 * early; `replaceBearing` resets the wear, `reduceLoad` slows it.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { CommandRejected, defineModel } from '../../simulator/model.js';
import { clamp, daily, gaussian, HOUR, round } from '../physics.js';

interface Motor {
  /** 0 new … 1 seized. */
  wear: number;
  /** Wear per simulated hour once degradation has started. */
  wearRate: number;
  load: number;
  running: boolean;
  hours: number;
}

export const motor = defineModel<Motor>({
  init(ctx) {
    // machine-1 is already degrading (the demo's predictive alarm); the others start at random wear.
    const wear = ctx.index === 0 ? 0.48 : ctx.random() * 0.2;
    return { wear, wearRate: ctx.index === 0 ? 0.08 : 0.002 + ctx.random() * 0.004, load: 0.85, running: true, hours: 8_000 + ctx.random() * 20_000 };
  },
  step(s, { simNow, dtSimMs }, ctx) {
    const hours = dtSimMs / HOUR;
    if (s.running) {
      s.hours += hours;
      s.wear = clamp(s.wear + s.wearRate * hours * (0.5 + s.load), 0, 1);
      if (s.wear >= 1) s.running = false;
    }
    const ambient = 20 + 6 * daily(simNow, 15);
    if (!s.running) return { running: false, vibration: 0, bearingTemp: round(ambient + 2), powerKw: 0, rpm: 0, operatingHours: Math.round(s.hours) };
    return {
      running: true,
      vibration: round(1.6 + 0.6 * s.load + 10 * s.wear ** 2 + gaussian(ctx.random) * 0.15, 2),
      bearingTemp: round(ambient + 22 * s.load + 45 * s.wear ** 2 + gaussian(ctx.random) * 0.3),
      powerKw: round(15 * s.load * (1 + 0.1 * s.wear) + gaussian(ctx.random) * 0.2, 2),
      rpm: Math.round(1480 * (0.9 + 0.1 * s.load) - 30 * s.wear),
      operatingHours: Math.round(s.hours),
    };
  },
  command(s, method, params): JsonValue {
    switch (method) {
      case 'reduceLoad': {
        const load = typeof params === 'object' && params !== null && !Array.isArray(params) && typeof params.load === 'number' ? params.load : 0.5;
        s.load = clamp(load, 0.2, 1);
        return { load: s.load };
      }
      case 'stop':
        s.running = false;
        return { running: false };
      case 'start':
        if (s.wear >= 1) throw new CommandRejected('bearing seized: replace it first');
        s.running = true;
        return { running: true };
      case 'replaceBearing':
        s.wear = 0;
        s.wearRate = 0.002;
        s.running = true;
        s.load = 0.85;
        return { wear: 0 };
      default:
        throw new CommandRejected(`unknown method ${method}`);
    }
  },
  attributes: () => ({ model: 'IE3 15 kW motor', bearing: '6309-2Z' }),
});
