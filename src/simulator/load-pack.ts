/**
 * A minimal scenario pack for load tests and for trying the simulator: electricity meters with
 * a daily load curve, noise, a slowly drifting voltage and an occasional scheduled fault, no
 * rules and no dashboard widgets, so the platform's work is ingest alone. Also the example of a
 * pack kept outside the tree: `continuum simulate --scenario src/simulator/load-pack.ts`.
 */
import type { JsonValue } from '../domain/telemetry.js';
import type { ScenarioPack } from '../scenarios/types.js';
import { CommandRejected, defineModel } from './model.js';
import { daily, faultActive, gaussian, round, walk } from './signals.js';

interface Meter {
  energyKwh: number;
  voltage: number;
  relayOn: boolean;
  reportEvery: number;
}

export const meterModel = defineModel<Meter>({
  init: (ctx) => ({ energyKwh: round(1000 + ctx.random() * 5000, 3), voltage: 230, relayOn: true, reportEvery: 1 }),
  step(s, { simNow, dtSimMs }, ctx) {
    const fault = faultActive(simNow, { everyHours: 24, durationMinutes: 10, offsetHours: (ctx.index * 0.37) % 24 });
    const powerKw = s.relayOn && !fault ? Math.max(0, daily(simNow, { mean: 1.2, amplitude: 0.8, peakHour: 19 }) + gaussian(ctx.random, 0.05)) : 0;
    s.energyKwh += (powerKw * dtSimMs) / 3_600_000;
    s.voltage = walk(s.voltage, dtSimMs, ctx.random, { sigmaPerHour: 1.5, reversion: 0.5, mean: 230, min: 200, max: 250 });
    return { powerKw: round(powerKw, 3), energyKwh: round(s.energyKwh, 3), voltage: round(fault ? 0 : s.voltage, 1), relay: s.relayOn };
  },
  command(s, method, params): JsonValue {
    if (method === 'setRelay') {
      const on = typeof params === 'object' && params !== null && !Array.isArray(params) ? params.on : undefined;
      if (typeof on !== 'boolean') throw new CommandRejected('setRelay needs {"on": true|false}');
      s.relayOn = on;
      return { relay: on };
    }
    if (method === 'readEnergy') return { energyKwh: round(s.energyKwh, 3) };
    throw new CommandRejected(`unknown method ${method}`);
  },
  attributes: (_s, ctx) => ({ model: 'SIM-METER-1', firmware: '1.4.2', serial: `SM${String(ctx.index + 1).padStart(6, '0')}` }),
});

export const loadTestPack: ScenarioPack = {
  name: 'load-test',
  title: 'Simulated meters (load test)',
  summary: 'Electricity meters reporting power, energy and voltage once per interval; nothing else runs on the platform.',
  m2m: 'None: this pack only produces load.',
  profiles: [{ name: 'sim-meter' }],
  devices: [{ prefix: 'meter', profile: 'sim-meter', model: 'meter', count: 10, intervalS: 1 }],
  rules: [],
  dashboard: { name: 'Simulated meters', widgets: [] },
  models: { meter: meterModel },
  characteristic: { rule: 'none' },
};

export default loadTestPack;
