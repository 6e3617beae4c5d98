/**
 * Vending M2M twin: machines with a GSM module that text their state to the operator's GSM
 * modem (the edge's modem transport), and the supplier's phone that the platform texts back
 * through that modem. Both are subscribers of the simulated SMSC. A machine sends
 * `STOCK a,b,c` (items left in slots 1–3) and `TEMP t` (cooler, °C) every interval; sales empty
 * machine 1's slot 2 quickly, so it runs low seconds in. `RESTOCK` texted to a machine fills it.
 */
import type { SmscSimulator, Subscriber } from '../sms/smsc.js';

export interface VendingOptions {
  /** The number the machines report to (the edge modem's SIM). */
  readonly to: string;
  /** Machines' numbers; machine n is the n-th. */
  readonly machines: readonly string[];
  readonly supplier: string;
  readonly intervalMs?: number;
}

export interface VendingFleet {
  readonly supplier: Subscriber;
  readonly machines: readonly Subscriber[];
  stock(machine: number): readonly number[] | undefined;
  close(): void;
}

const FULL = [10, 10, 10];

export function startVendingMachines(smsc: SmscSimulator, options: VendingOptions): VendingFleet {
  const stocks = options.machines.map(() => [...FULL]);
  let tick = 0;
  const machines = options.machines.map((number, i) =>
    smsc.handset(number, (text, from, self) => {
      if (/^\s*RESTOCK\s*$/i.test(text)) {
        stocks[i] = [...FULL];
        self.send(from, `STOCK ${FULL.join(',')}`);
      }
    }),
  );
  const supplier = smsc.handset(options.supplier);
  const report = (): void => {
    tick++;
    machines.forEach((m, i) => {
      const s = stocks[i] as number[];
      // Machine 1 sells from slot 2 every interval, the others now and then.
      const slot = i === 0 ? 1 : tick % 3;
      if (i === 0 || tick % (3 + i) === 0) s[slot] = Math.max(0, (s[slot] ?? 0) - (i === 0 ? 2 : 1));
      m.send(options.to, `STOCK ${s.join(',')}`);
      if (tick % 5 === 1) m.send(options.to, `TEMP ${(4 + ((i + tick) % 3) * 0.5).toFixed(1)}`);
    });
  };
  report();
  const timer = setInterval(report, options.intervalMs ?? 2000);
  timer.unref();
  return {
    supplier,
    machines,
    stock: (machine) => stocks[machine - 1],
    close() {
      clearInterval(timer);
      for (const m of machines) m.close();
      supplier.close();
    },
  };
}
