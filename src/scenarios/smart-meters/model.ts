/**
 * A household electricity and water meter: the cumulative register, the power of the moment, the
 * consumption since the last reading, a leak flag from the water side and the battery. meter-1
 * reports a leak a little after the start.
 */
import { defineModel } from '../../simulator/model.js';
import { clamp, daily, gaussian, HOUR, round } from '../physics.js';

interface Meter {
  energyKwh: number;
  waterM3: number;
  battery: number;
  startedAt: number;
  /** Simulated ms after the start when the leak begins, or -1. */
  leakAtMs: number;
  household: number;
}

export const meter = defineModel<Meter>({
  init(ctx, now) {
    return {
      energyKwh: round(2_000 + ctx.random() * 8_000, 3),
      waterM3: round(100 + ctx.random() * 400, 3),
      battery: ctx.index === 1 ? 16 : 60 + ctx.random() * 40,
      startedAt: now,
      leakAtMs: ctx.index === 0 ? 5 * 60_000 : -1,
      household: 0.6 + ctx.random(),
    };
  },
  step(s, { simNow, dtSimMs }, ctx) {
    const hours = dtSimMs / HOUR;
    const evening = daily(simNow, 19);
    const powerW = Math.max(80, (250 + 2_600 * evening ** 3) * s.household + gaussian(ctx.random) * 40);
    const consumptionKwh = (powerW / 1000) * hours;
    s.energyKwh += consumptionKwh;
    const leak = s.leakAtMs >= 0 && simNow - s.startedAt >= s.leakAtMs;
    s.waterM3 += (leak ? 0.4 : 0.05 * evening) * hours;
    s.battery = clamp(s.battery - hours * 0.002, 0, 100);
    return {
      energyKwh: round(s.energyKwh, 3),
      powerW: Math.round(powerW),
      consumptionKwh: round(consumptionKwh, 4),
      voltage: round(230 + gaussian(ctx.random) * 1.5),
      waterM3: round(s.waterM3, 3),
      leak,
      battery: round(s.battery),
    };
  },
  attributes: (_s, ctx) => ({ model: 'combined electricity/water meter', serial: `SM-${(100_000 + ctx.index).toString()}` }),
});
