/** A small test pack model: a thermostat whose heater a command switches and whose set point is a shared attribute. */
import { CommandRejected, defineModel } from '../../src/simulator/model.js';
import type { LinkLog } from '../../src/simulator/clients/types.js';
import { round, walk } from '../../src/simulator/signals.js';

export interface ThermoState {
  temperature: number;
  heating: boolean;
  setPoint: number;
}

export const thermostat = defineModel<ThermoState>({
  init: (ctx) => ({ temperature: 18 + ctx.index, heating: false, setPoint: 20 }),
  step(state, time, ctx) {
    state.temperature = walk(state.temperature + (state.heating ? 0.01 : 0), time.dtSimMs, ctx.random, { sigmaPerHour: 0.5, min: -20, max: 60 });
    return { temperature: round(state.temperature), heating: state.heating, setPoint: state.setPoint };
  },
  command(state, method, params) {
    if (method === 'setHeating') {
      const on = typeof params === 'object' && params !== null && !Array.isArray(params) ? params.on : undefined;
      if (typeof on !== 'boolean') throw new CommandRejected('setHeating needs {"on": true|false}');
      state.heating = on;
      return { heating: on };
    }
    if (method === 'getState') return { ...state };
    throw new CommandRejected(`unknown method ${method}`);
  },
  attributes: (_state, ctx) => ({ model: 'sim-thermostat', firmware: '1.0.0', index: ctx.index }),
  sharedAttributes(state, attrs) {
    if (typeof attrs.setPoint === 'number') state.setPoint = attrs.setPoint;
  },
});

export const quietLog: LinkLog = { info() {}, warn() {} };

/** Logs warnings into an array, for assertions that bad input was logged. */
export function memoryLog(): { log: LinkLog; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { info: (o, m) => void lines.push(`${m} ${JSON.stringify(o)}`), warn: (o, m) => void lines.push(`${m} ${JSON.stringify(o)}`) } };
}
