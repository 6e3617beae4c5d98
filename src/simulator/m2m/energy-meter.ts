/**
 * Smart-meters M2M twin: electricity meters on one Modbus RTU line (modbus-serial's ServerSerial
 * on a serial port, a socat pty in tests and the demo). The measurement registers follow the
 * register map Eastron publishes for its SDM120/SDM630 meters: input registers (function code 4),
 * each value an IEEE 754 float32 in two registers, high word first —
 *   0x0000 voltage (V), 0x0006 current (A), 0x000C active power (W), 0x0046 frequency (Hz),
 *   0x0048 import active energy (kWh), 0x0156 total active energy (kWh).
 * Coil 0 is this simulator's own addition (SDM meters have none): a load-management relay that
 * switches the household's controllable load (an EV charger), as a meter with a built-in breaker
 * or a relay module beside the meter would. Meter 1's charger starts a few seconds in and pushes
 * the power above the connection's limit; opening the relay takes that load off the line.
 */
import modbusSerial from 'modbus-serial';
import { encodeRegisters } from '../../protocols/modbus/registers.js';
import { round, seededRandom } from '../signals.js';

// modbus-serial is CommonJS; under NodeNext its default import is module.exports.
const { ServerSerial } = modbusSerial as unknown as { ServerSerial: typeof import('modbus-serial').ServerSerial };

/** The SDM-style input registers this simulator answers (PDU addresses). */
export const SDM_REGISTERS = { voltage: 0x0000, current: 0x0006, power: 0x000c, frequency: 0x0046, importEnergy: 0x0048, totalEnergy: 0x0156 } as const;

export interface EnergyMeterOptions {
  /** The simulator's end of the serial line. */
  readonly path: string;
  readonly baudRate?: number;
  /** Meters on the line, unit ids 1…n (default 1). */
  readonly meters?: number;
  /** Seconds after start when meter 1's charger switches on (default 5). */
  readonly chargerStartS?: number;
  /** The charger's draw in watts (default 7400, a 32 A single-phase wallbox). */
  readonly chargerW?: number;
  readonly log?: { info(obj: object, msg: string): void };
}

export interface EnergyMeterLine {
  /** The load relay of each unit (coil 0): true = closed, the load is supplied. */
  relay(unit: number): boolean | undefined;
  /** Coil writes by clients, in order. */
  readonly writes: readonly { unit: number; address: number; value: boolean }[];
  /** Present values of one unit (for tests and logs). */
  values(unit: number): { voltage: number; current: number; power: number; importEnergy: number } | undefined;
  close(): Promise<void>;
}

interface Meter {
  readonly unit: number;
  relay: boolean;
  energyKwh: number;
  lastMs: number;
}

export async function startEnergyMeters(options: EnergyMeterOptions): Promise<EnergyMeterLine> {
  const started = Date.now();
  const random = seededRandom(`meters:${options.path}`);
  const chargerW = options.chargerW ?? 7400;
  const chargerAt = started + (options.chargerStartS ?? 5) * 1000;
  const meters = new Map<number, Meter>();
  for (let unit = 1; unit <= (options.meters ?? 1); unit++) meters.set(unit, { unit, relay: true, energyKwh: 1200 + unit * 37.5, lastMs: started });
  const writes: { unit: number; address: number; value: boolean }[] = [];

  const present = (m: Meter) => {
    const now = Date.now();
    const voltage = round(230 + (random() - 0.5) * 4, 1);
    const base = 600 + 150 * m.unit + (random() - 0.5) * 60;
    const charger = m.unit === 1 && now >= chargerAt && m.relay ? chargerW : 0;
    const power = round(base + charger, 1);
    // Energy is the integral of power: advanced whenever the meter is read.
    m.energyKwh += (power * (now - m.lastMs)) / 3_600_000_000;
    m.lastMs = now;
    return { voltage, current: round(power / voltage, 3), power, frequency: 50, importEnergy: round(m.energyKwh, 4) };
  };

  const inputRegisters = (addr: number, length: number, unit: number): number[] => {
    const m = meters.get(unit);
    const out = new Array<number>(length).fill(0);
    if (!m) return out;
    const v = present(m);
    const values: [number, number][] = [
      [SDM_REGISTERS.voltage, v.voltage],
      [SDM_REGISTERS.current, v.current],
      [SDM_REGISTERS.power, v.power],
      [SDM_REGISTERS.frequency, v.frequency],
      [SDM_REGISTERS.importEnergy, v.importEnergy],
      [SDM_REGISTERS.totalEnergy, v.importEnergy],
    ];
    for (const [at, value] of values) {
      const words = encodeRegisters(value, { type: 'float32', wordOrder: 'big' });
      words.forEach((w, i) => {
        const index = at + i - addr;
        if (index >= 0 && index < length) out[index] = w;
      });
    }
    return out;
  };

  const vector = {
    getMultipleInputRegisters: inputRegisters,
    getInputRegister: (addr: number, unit: number) => inputRegisters(addr, 1, unit)[0] ?? 0,
    getCoil: (addr: number, unit: number) => (addr === 0 ? (meters.get(unit)?.relay ?? false) : false),
    setCoil: (addr: number, value: boolean, unit: number) => {
      const m = meters.get(unit);
      writes.push({ unit, address: addr, value });
      if (m && addr === 0) m.relay = value;
      options.log?.info({ unit, address: addr, value }, 'meter relay written');
    },
  };
  const server = await new Promise<InstanceType<typeof ServerSerial>>((resolve, reject) => {
    const s: InstanceType<typeof ServerSerial> = new ServerSerial(vector, {
      path: options.path,
      baudRate: options.baudRate ?? 9600,
      unitID: 255,
      openCallback: (err?: Error | null) => (err ? reject(err) : resolve(s)),
    } as ConstructorParameters<typeof ServerSerial>[1]);
    s.on('error', () => undefined);
  });
  return {
    relay: (unit) => meters.get(unit)?.relay,
    writes,
    values(unit) {
      const m = meters.get(unit);
      if (!m) return undefined;
      const { voltage, current, power, importEnergy } = present(m);
      return { voltage, current, power, importEnergy };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
