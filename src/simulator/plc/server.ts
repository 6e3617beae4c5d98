/**
 * A simulated PLC on Modbus TCP (modbus-serial's ServerTCP): registers and bits follow the
 * signals of a map (plc-map.yaml), so the edge gateway's Modbus connector can be run without
 * hardware. Writes (function codes 5, 6, 15, 16) are logged and kept: a written address holds
 * the written value from then on, as a PLC's memory would. Addresses the map does not name read
 * as 0 — the whole 0…65535 area exists, like the flat memory of many small PLCs.
 */
import { createServer, type AddressInfo } from 'node:net';
import modbusSerial from 'modbus-serial';
import { encodeRegisters, registerCount, type ValueLayout } from '../../protocols/modbus/registers.js';
import { clamp, daily, gaussian, seededRandom, walk } from '../signals.js';
import { FirmwareArea } from './firmware-area.js';
import type { BitEntry, PlcMap, RegisterEntry, Signal } from './map.js';

// modbus-serial is CommonJS; under NodeNext its default import is module.exports.
const { ServerTCP } = modbusSerial as unknown as { ServerTCP: typeof import('modbus-serial').ServerTCP };

export interface PlcLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PlcOptions {
  readonly map: PlcMap;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Unit id answered (255 = any); default the map's `unit`, else 1. */
  readonly unit?: number;
  readonly speed?: number;
  readonly log: PlcLog;
}

export interface PlcServer {
  readonly port: number;
  /** Values written by clients, by table and address (what a test asserts). */
  readonly written: { readonly holding: ReadonlyMap<number, number>; readonly coils: ReadonlyMap<number, boolean> };
  /** The firmware-receive area (map `firmware`), when the map has one. */
  readonly firmware?: FirmwareArea;
  stop(): Promise<void>;
}

/** A signal's value at simulated time `simNow`; `state` keeps what a random walk needs. */
function signalValue(signal: Signal, simNow: number, random: () => number, state: { last?: number; t?: number }): number | boolean | string {
  switch (signal.kind) {
    case 'constant':
      return signal.value;
    case 'daily':
      return daily(simNow, signal) + (signal.noise ? gaussian(random, signal.noise) : 0);
    case 'noise':
      return signal.mean + gaussian(random, signal.sigma);
    case 'ramp': {
      const periodMs = signal.periodS * 1000;
      return signal.min + ((signal.max - signal.min) * (((simNow % periodMs) + periodMs) % periodMs)) / periodMs;
    }
    case 'walk': {
      const v = state.last === undefined ? signal.start : walk(state.last, simNow - (state.t ?? simNow), random, signal);
      state.last = v;
      state.t = simNow;
      return v;
    }
    case 'square': {
      const periodMs = signal.periodS * 1000;
      return ((simNow % periodMs) + periodMs) % periodMs < periodMs * (signal.duty ?? 0.5);
    }
  }
}

interface Slot {
  readonly entry: RegisterEntry;
  readonly layout: ValueLayout;
  readonly words: number;
  readonly random: () => number;
  readonly state: { last?: number; t?: number };
}

/** Words of one table: each mapped value spread over the addresses it occupies. */
class RegisterTable {
  private readonly byAddress = new Map<number, { slot: Slot; word: number }>();
  readonly written = new Map<number, number>();

  constructor(entries: readonly RegisterEntry[], table: string) {
    for (const entry of entries) {
      const layout: ValueLayout = { type: entry.type ?? 'uint16', ...pick(entry) };
      const words = registerCount(layout.type, layout.count);
      const slot: Slot = { entry, layout, words, random: seededRandom(`${table}:${entry.address}`), state: {} };
      for (let w = 0; w < words; w++) this.byAddress.set(entry.address + w, { slot, word: w });
    }
  }

  /** `length` words from `address`, each value computed once per read so its words agree. */
  read(address: number, length: number, simNow: number): number[] {
    const cache = new Map<Slot, number[]>();
    const out: number[] = [];
    for (let a = address; a < address + length; a++) {
      const held = this.written.get(a);
      if (held !== undefined) {
        out.push(held);
        continue;
      }
      const hit = this.byAddress.get(a);
      if (!hit) {
        out.push(0);
        continue;
      }
      let words = cache.get(hit.slot);
      if (!words) {
        words = encodeClamped(signalValue(hit.slot.entry.signal, simNow, hit.slot.random, hit.slot.state), hit.slot.layout);
        cache.set(hit.slot, words);
      }
      out.push(words[hit.word] ?? 0);
    }
    return out;
  }
}

function pick(e: RegisterEntry): Omit<ValueLayout, 'type'> {
  return {
    ...(e.count !== undefined ? { count: e.count } : {}),
    ...(e.byteOrder ? { byteOrder: e.byteOrder } : {}),
    ...(e.wordOrder ? { wordOrder: e.wordOrder } : {}),
    ...(e.scale !== undefined ? { scale: e.scale } : {}),
    ...(e.offset !== undefined ? { offset: e.offset } : {}),
  };
}

/** Integer types clamp to their range instead of failing: a noisy signal near a limit stays readable. */
function encodeClamped(value: number | boolean | string, layout: ValueLayout): number[] {
  const ranges: Partial<Record<ValueLayout['type'], [number, number]>> = {
    int16: [-0x8000, 0x7fff],
    uint16: [0, 0xffff],
    int32: [-0x80000000, 0x7fffffff],
    uint32: [0, 0xffffffff],
  };
  const range = ranges[layout.type];
  let v = value;
  if (range && typeof v === 'number') {
    const raw = clamp((v - (layout.offset ?? 0)) / (layout.scale ?? 1), range[0], range[1]);
    v = raw * (layout.scale ?? 1) + (layout.offset ?? 0);
  }
  try {
    return encodeRegisters(v, layout);
  } catch {
    return new Array<number>(registerCount(layout.type, layout.count)).fill(0);
  }
}

class BitTable {
  private readonly byAddress = new Map<number, { entry: BitEntry; random: () => number; state: { last?: number; t?: number } }>();
  readonly written = new Map<number, boolean>();

  constructor(entries: readonly BitEntry[], table: string) {
    for (const entry of entries) this.byAddress.set(entry.address, { entry, random: seededRandom(`${table}:${entry.address}`), state: {} });
  }

  read(address: number, simNow: number): boolean {
    const held = this.written.get(address);
    if (held !== undefined) return held;
    const hit = this.byAddress.get(address);
    if (!hit) return false;
    const v = signalValue(hit.entry.signal, simNow, hit.random, hit.state);
    return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : v.length > 0;
  }
}

/** A free TCP port on `host` (ServerTCP cannot be asked for port 0). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startPlc(opts: PlcOptions): Promise<PlcServer> {
  const host = opts.host ?? '127.0.0.1';
  // ServerTCP treats port 0 as "use 502", so a free port is found first.
  const port = opts.port === 0 ? await freePort(host) : opts.port;
  const speed = opts.speed ?? 1;
  const start = Date.now();
  const simNow = (): number => start + (Date.now() - start) * speed;
  const holding = new RegisterTable(opts.map.holdingRegisters ?? [], 'holding');
  const input = new RegisterTable(opts.map.inputRegisters ?? [], 'input');
  const coils = new BitTable(opts.map.coils ?? [], 'coils');
  const discrete = new BitTable(opts.map.discreteInputs ?? [], 'discrete');
  const log = opts.log;
  const fw = opts.map.firmware ? new FirmwareArea(opts.map.firmware.base, opts.map.firmware.version, log) : undefined;
  const readHolding = (addr: number, length: number): number[] =>
    fw?.covers(addr, length) ? Array.from({ length }, (_, i) => fw.read(addr + i)) : holding.read(addr, length, simNow());
  const setRegister = (addr: number, value: number): void => {
    holding.written.set(addr, value);
    log.info({ table: 'holding', address: addr, value }, 'register written');
  };
  const vector = {
    getMultipleHoldingRegisters: readHolding,
    getHoldingRegister: (addr: number) => readHolding(addr, 1)[0]!,
    getMultipleInputRegisters: (addr: number, length: number) => input.read(addr, length, simNow()),
    getInputRegister: (addr: number) => input.read(addr, 1, simNow())[0]!,
    getCoil: (addr: number) => coils.read(addr, simNow()),
    getDiscreteInput: (addr: number) => discrete.read(addr, simNow()),
    setRegister: (addr: number, value: number) => {
      // The firmware area takes whole headers and blocks only (FC16).
      if (fw?.covers(addr)) return fw.write(addr, [value]);
      setRegister(addr, value);
    },
    // FC16: one call per request, so a firmware block arrives whole.
    setRegisterArray: (addr: number, values: number[]) => {
      if (fw?.covers(addr, values.length)) return fw.write(addr, values);
      values.forEach((v, i) => setRegister(addr + i, v));
    },
    setCoil: (addr: number, value: boolean) => {
      if (fw && addr === fw.base) {
        if (value) fw.commit();
        return;
      }
      coils.written.set(addr, value);
      log.info({ table: 'coils', address: addr, value }, 'coil written');
    },
  };
  const server = new ServerTCP(vector, { host, port, unitID: opts.unit ?? opts.map.unit ?? 1 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', (err: Error | null) => reject(err ?? new Error('Modbus server error')));
    server.on('error', (err: Error | null) => reject(err ?? new Error('Modbus server error')));
  });
  server.on('socketError', (err: Error | null) => log.warn({ err: err?.message }, 'Modbus client connection error'));
  return {
    port,
    written: { holding: holding.written, coils: coils.written },
    ...(fw ? { firmware: fw } : {}),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
