/**
 * A field controller: soil and weather sensors plus the irrigation pump it switches. Soil dries
 * with evapotranspiration (faster on hot, bright afternoons), rain wets it, and the pump adds
 * water while it runs — so a pump command visibly turns the moisture curve around.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { CommandRejected, defineModel } from '../../simulator/model.js';
import { clamp, daily, daylight, gaussian, HOUR, round } from '../physics.js';

interface Field {
  moisture: number;
  pump: boolean;
  battery: number;
  /** Simulated time until which it rains. */
  rainUntil: number;
}

export const fieldController = defineModel<Field>({
  init(ctx, now) {
    // The first field starts just above the irrigation threshold so the demo shows the rule quickly.
    const moisture = ctx.index === 0 ? 30.6 : 34 + ctx.random() * 16;
    return { moisture, pump: false, battery: 96 - ctx.random() * 20, rainUntil: now - 1 };
  },
  step(s, { simNow, dtSimMs }, ctx) {
    const hours = dtSimMs / HOUR;
    const heat = daily(simNow, 15);
    if (s.rainUntil < simNow && ctx.random() < hours / 72) s.rainUntil = simNow + (1 + ctx.random() * 3) * HOUR;
    const raining = s.rainUntil > simNow;
    const evaporation = (0.6 + 1.4 * heat) * hours;
    const water = (s.pump ? 9 : 0) * hours + (raining ? 2.5 : 0) * hours;
    s.moisture = clamp(s.moisture - evaporation + water + gaussian(ctx.random) * 0.05, 5, 60);
    s.battery = clamp(s.battery - hours * 0.05, 0, 100);
    const airTemperature = 12 + 16 * heat + gaussian(ctx.random) * 0.3;
    return {
      soilMoisture: round(s.moisture),
      soilTemperature: round(10 + 9 * daily(simNow, 17) + gaussian(ctx.random) * 0.1),
      airTemperature: round(airTemperature),
      humidity: round(clamp(90 - 45 * heat + (raining ? 10 : 0) + gaussian(ctx.random), 20, 100)),
      light: Math.round(60_000 * daylight(simNow) * (raining ? 0.25 : 1)),
      rain: raining,
      pump: s.pump,
      flowLpm: s.pump ? round(38 + gaussian(ctx.random)) : 0,
      battery: round(s.battery),
    };
  },
  command(s, method, params): JsonValue {
    if (method === 'setPump') {
      const on = typeof params === 'object' && params !== null && !Array.isArray(params) ? params.on : params;
      if (typeof on !== 'boolean') throw new CommandRejected('setPump needs {"on": true|false}');
      s.pump = on;
      return { pump: s.pump };
    }
    if (method === 'getStatus') return { pump: s.pump, soilMoisture: round(s.moisture) };
    throw new CommandRejected(`unknown method ${method}`);
  },
  attributes: () => ({ model: 'FC-200 field controller', firmware: '2.4.1' }),
});
