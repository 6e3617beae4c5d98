/**
 * Factory M2M twin: one PLC on Modbus TCP (modbus-serial's ServerTCP) driving two presses. Each
 * press has a block of holding registers from its base (press n at (n − 1) × 100):
 *   +0 vibration, mm/s RMS (float32, high word first)   +2 bearing temperature, °C (float32)
 *   +4 speed, rpm (uint16)                               +10 load setpoint, % (uint16, writable)
 * and one coil, base + 0: run (true = running; written false = stop, true = start again).
 * Press 1 has a worn bearing: its vibration is above ISO 10816 zone C at full load and falls in
 * proportion when the load setpoint is lowered. Press 2's bearing cooling has failed: its bearing
 * temperature climbs about 1 °C a second while it runs and falls when it stands, so the local
 * over-temperature interlock (an edge rule writing the run coil) trips seconds in.
 */
import modbusSerial from 'modbus-serial';
import { encodeRegisters } from '../../protocols/modbus/registers.js';
import { freePort } from '../plc/server.js';
import { round, seededRandom } from '../signals.js';

// modbus-serial is CommonJS; under NodeNext its default import is module.exports.
const { ServerTCP } = modbusSerial as unknown as { ServerTCP: typeof import('modbus-serial').ServerTCP };

/** Register offsets within a press's block, and the block size. */
export const PRESS_REGISTERS = { vibration: 0, bearingTemp: 2, rpm: 4, load: 10, run: 0, block: 100 } as const;

export interface PressPlcOptions {
  readonly host?: string;
  /** Temperature press 2 starts at, °C (default 74: the 80 °C interlock trips about 6 s in). */
  readonly overheatStart?: number;
  readonly log?: { info(obj: object, msg: string): void };
}

export interface PressState {
  readonly running: boolean;
  readonly load: number;
  readonly vibration: number;
  readonly bearingTemp: number;
}

export interface PressPlc {
  readonly host: string;
  readonly port: number;
  /** Present state of press n (1 or 2). */
  press(n: number): PressState | undefined;
  /** Every client write, in order: the table, the absolute address and the value. */
  readonly writes: readonly { readonly table: 'holding' | 'coil'; readonly address: number; readonly value: number | boolean }[];
  stop(): Promise<void>;
}

interface Press {
  running: boolean;
  load: number;
  temp: number;
  lastMs: number;
  readonly wear: number;
  readonly heating: number;
}

export async function startPressPlc(options: PressPlcOptions = {}): Promise<PressPlc> {
  const host = options.host ?? '127.0.0.1';
  const port = await freePort(host);
  const random = seededRandom('press-plc');
  const presses: Press[] = [
    { running: true, load: 100, temp: 58, lastMs: Date.now(), wear: 6.2, heating: 0 },
    { running: true, load: 100, temp: options.overheatStart ?? 74, lastMs: Date.now(), wear: 2.1, heating: 1 },
  ];
  const writes: { table: 'holding' | 'coil'; address: number; value: number | boolean }[] = [];
  const at = (addr: number): { press: Press | undefined; offset: number } => ({
    press: presses[Math.floor(addr / PRESS_REGISTERS.block)],
    offset: addr % PRESS_REGISTERS.block,
  });

  /** Advances a press's temperature to now: press 2 heats while running; both cool when stopped. */
  const advance = (p: Press): void => {
    const now = Date.now();
    const s = (now - p.lastMs) / 1000;
    p.lastMs = now;
    if (p.running && p.heating > 0) p.temp += p.heating * s;
    else if (!p.running) p.temp = Math.max(40, p.temp - 2 * s);
  };

  const present = (p: Press): PressState => {
    advance(p);
    const vibration = p.running ? round(p.wear * (p.load / 100) + (random() - 0.5) * 0.1, 2) : 0;
    const bearingTemp = round(p.temp + (p.heating > 0 ? 0 : 10 * (p.load / 100)) + (random() - 0.5) * 0.2, 1);
    return { running: p.running, load: p.load, vibration, bearingTemp };
  };

  const holding = (addr: number, length: number): number[] => {
    const out = new Array<number>(length).fill(0);
    for (let i = 0; i < length; ) {
      const { press, offset } = at(addr + i);
      if (!press) {
        i++;
        continue;
      }
      const base = addr + i - offset;
      const v = present(press);
      const words = new Map<number, number>();
      encodeRegisters(v.vibration, { type: 'float32', wordOrder: 'big' }).forEach((w, k) => words.set(base + PRESS_REGISTERS.vibration + k, w));
      encodeRegisters(v.bearingTemp, { type: 'float32', wordOrder: 'big' }).forEach((w, k) => words.set(base + PRESS_REGISTERS.bearingTemp + k, w));
      words.set(base + PRESS_REGISTERS.rpm, press.running ? 1480 : 0);
      words.set(base + PRESS_REGISTERS.load, press.load);
      // Fill every requested word of this press's block from one consistent reading.
      const end = Math.min(addr + length, base + PRESS_REGISTERS.block);
      for (let a = addr + i; a < end; a++) out[a - addr] = words.get(a) ?? 0;
      i = end - addr;
    }
    return out;
  };

  const vector = {
    getMultipleHoldingRegisters: holding,
    getHoldingRegister: (addr: number) => holding(addr, 1)[0] ?? 0,
    getCoil: (addr: number) => {
      const { press, offset } = at(addr);
      return press !== undefined && offset === PRESS_REGISTERS.run && press.running;
    },
    setRegister: (addr: number, value: number) => {
      writes.push({ table: 'holding', address: addr, value });
      const { press, offset } = at(addr);
      if (press && offset === PRESS_REGISTERS.load) {
        advance(press);
        press.load = Math.max(0, Math.min(100, value));
      }
      options.log?.info({ address: addr, value }, 'press PLC register written');
    },
    setCoil: (addr: number, value: boolean) => {
      writes.push({ table: 'coil', address: addr, value });
      const { press, offset } = at(addr);
      if (press && offset === PRESS_REGISTERS.run) {
        advance(press);
        press.running = value;
      }
      options.log?.info({ address: addr, value }, 'press PLC coil written');
    },
  };
  const server = new ServerTCP(vector, { host, port, unitID: 1 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', (err: Error | null) => reject(err ?? new Error('Modbus server error')));
    server.on('error', (err: Error | null) => reject(err ?? new Error('Modbus server error')));
  });
  server.on('socketError', () => undefined);
  return {
    host,
    port,
    press: (n) => {
      const p = presses[n - 1];
      return p ? present(p) : undefined;
    },
    writes,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
