/**
 * A vending machine with three product slots, a cooler and a cash box. Sales arrive at random
 * (more at lunchtime); `restock` fills the slots. vend-1 starts nearly sold out in slot A.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { CommandRejected, defineModel } from '../../simulator/model.js';
import { clamp, daily, gaussian, HOUR, round } from '../physics.js';

const CAPACITY = 20;
const SLOTS = ['A', 'B', 'C'] as const;
type Slot = (typeof SLOTS)[number];

interface Machine {
  stock: Record<Slot, number>;
  cash: number;
  sales: number;
  coolerOk: boolean;
  temperature: number;
}

export const vendingMachine = defineModel<Machine>({
  init(ctx) {
    const fill = (): number => 8 + Math.floor(ctx.random() * 12);
    return { stock: { A: ctx.index === 0 ? 4 : fill(), B: fill(), C: fill() }, cash: round(ctx.random() * 40, 2), sales: 0, coolerOk: true, temperature: 5 };
  },
  step(s, { simNow, dtSimMs }, ctx) {
    const hours = dtSimMs / HOUR;
    const demand = (1 + 5 * daily(simNow, 12.5)) * hours;
    for (const slot of SLOTS) {
      if (s.stock[slot] > 0 && ctx.random() < demand) {
        s.stock[slot] -= 1;
        s.sales += 1;
        s.cash = round(s.cash + (slot === 'A' ? 1.5 : slot === 'B' ? 2 : 2.5), 2);
      }
    }
    const target = s.coolerOk ? 5 : 22;
    s.temperature += (target - s.temperature) * clamp(hours * 2, 0, 1);
    return {
      stockA: s.stock.A,
      stockB: s.stock.B,
      stockC: s.stock.C,
      sales: s.sales,
      cash: s.cash,
      temperature: round(s.temperature + gaussian(ctx.random) * 0.1),
    };
  },
  command(s, method, params): JsonValue {
    if (method === 'restock') {
      const slot = typeof params === 'object' && params !== null && !Array.isArray(params) ? params.slot : undefined;
      if (slot !== undefined && !SLOTS.includes(slot as Slot)) throw new CommandRejected(`no slot ${String(slot)} (A, B, C)`);
      for (const x of SLOTS) if (slot === undefined || slot === x) s.stock[x] = CAPACITY;
      return { stock: { ...s.stock } };
    }
    if (method === 'emptyCashBox') {
      const cash = s.cash;
      s.cash = 0;
      return { collected: cash };
    }
    throw new CommandRejected(`unknown method ${method}`);
  },
  attributes: () => ({ model: 'snack and drink machine', slots: CAPACITY }),
});
