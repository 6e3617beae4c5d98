/**
 * The field side of each pack's M2M twin: the simulated devices on their own protocol, started
 * on this machine, and the environment the twin's edge config (examples/edge/<pack>-m2m.yaml)
 * reads to find them. One entry per pack with a twin; each returns what a test asserts on.
 */
import { startHeatingController, type HeatingController } from '../../simulator/m2m/heating-controller.js';
import { startBedsideMonitors, type BedsideMonitors } from '../../simulator/m2m/bedside-monitor.js';
import { startEnergyMeters, type EnergyMeterLine } from '../../simulator/m2m/energy-meter.js';
import { startVendingMachines, type VendingFleet } from '../../simulator/m2m/vending-machines.js';
import { startGsmPump, type GsmPump } from '../../simulator/m2m/gsm-pump.js';
import { startPressPlc, type PressPlc } from '../../simulator/m2m/press-plc.js';
import { startTrackers, type TrackerFleet } from '../../simulator/m2m/gsm-trackers.js';
import { startModemEmulator } from '../../simulator/sms/modem.js';
import { openPtyPair } from '../../simulator/sms/pty.js';
import { startSmscSimulator, type SmscSimulator } from '../../simulator/sms/smsc.js';

export interface FieldLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What each twin's simulators expose (tests read the field side back through these). */
export interface FieldDevices {
  'smart-meters': { meters: EnergyMeterLine };
  vending: { smsc: SmscSimulator; machines: VendingFleet };
  'patient-monitoring': { monitors: BedsideMonitors };
  'smart-home': { heating: HeatingController };
  'smart-farm': { smsc: SmscSimulator; pump: GsmPump };
  factory: { plc: PressPlc };
  fleet: { smsc: SmscSimulator; trackers: TrackerFleet };
}

export type TwinPack = keyof FieldDevices;

export interface Field<P extends TwinPack = TwinPack> {
  /** Variables the twin's edge config needs. */
  readonly env: Readonly<Record<string, string>>;
  readonly devices: FieldDevices[P];
  stop(): Promise<void>;
}

/** Numbers of the vending twin (the SIMs listed in examples/edge/vending-m2m.yaml). */
export const VENDING_NUMBERS = { modem: '+491700000100', machines: ['+491700000101', '+491700000102'], supplier: '+491700000199' } as const;

/** Numbers of the smart-farm twin (examples/edge/smart-farm-m2m.yaml): the gateway's SMPP source address and the controller's SIM. */
export const FARM_NUMBERS = { gateway: '+491700000200', pump: '+491700000201' } as const;

/** Numbers of the fleet twin (examples/edge/fleet-m2m.yaml): the control room's modem and the trackers. */
export const FLEET_NUMBERS = { modem: '+491700000300', trackers: ['+491700000301', '+491700000302'] } as const;

type Starter<P extends TwinPack> = (log: FieldLog) => Promise<Field<P>>;

/** Runs `start`; on failure closes what `cleanup` was given so far and rethrows. */
async function guarded<T>(cleanup: (() => Promise<void>)[], start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

/** An SMS centre and a GSM modem on a pty line (the edge's side: line.hostSide), cleaned up with the rest. */
async function smsModemLine(cleanup: (() => Promise<void>)[], log: FieldLog, number: string) {
  const smsc = await startSmscSimulator({ port: 0, logger: log });
  cleanup.push(() => smsc.close());
  const line = await openPtyPair();
  cleanup.push(() => line.close());
  const modem = await startModemEmulator({ path: line.modemSide, smsc, number, logger: log });
  cleanup.push(() => modem.close());
  return { smsc, line };
}

const stopAll = (cleanup: (() => Promise<void>)[]) => async (): Promise<void> => {
  for (const c of [...cleanup].reverse()) await c().catch(() => undefined);
};

const STARTERS: { [P in TwinPack]: Starter<P> } = {
  'smart-meters': async (log) => {
    const cleanup: (() => Promise<void>)[] = [];
    return guarded(cleanup, async () => {
      const line = await openPtyPair();
      cleanup.push(() => line.close());
      const meters = await startEnergyMeters({ path: line.modemSide, meters: 2, log });
      cleanup.push(() => meters.close());
      return { env: { METER_SERIAL: line.hostSide }, devices: { meters }, stop: stopAll(cleanup) };
    });
  },
  vending: async (log) => {
    const cleanup: (() => Promise<void>)[] = [];
    return guarded(cleanup, async () => {
      const { smsc, line } = await smsModemLine(cleanup, log, VENDING_NUMBERS.modem);
      const machines = startVendingMachines(smsc, { to: VENDING_NUMBERS.modem, machines: VENDING_NUMBERS.machines, supplier: VENDING_NUMBERS.supplier });
      cleanup.push(async () => machines.close());
      return { env: { MODEM_SERIAL: line.hostSide }, devices: { smsc, machines }, stop: stopAll(cleanup) };
    });
  },
  'patient-monitoring': async (log) => {
    const cleanup: (() => Promise<void>)[] = [];
    return guarded(cleanup, async () => {
      const line = await openPtyPair();
      cleanup.push(() => line.close());
      const monitors = await startBedsideMonitors({ path: line.modemSide, beds: 2, log });
      cleanup.push(() => monitors.close());
      return { env: { MONITOR_SERIAL: line.hostSide }, devices: { monitors }, stop: stopAll(cleanup) };
    });
  },
  'smart-home': async () => {
    const heating = await startHeatingController();
    return {
      env: { BACNET_PORT: '0', BACNET_INTERFACE: '127.0.0.1', BACNET_DEVICE_ADDRESS: heating.address },
      devices: { heating },
      stop: async () => heating.close(),
    };
  },
  'smart-farm': async (log) => {
    const cleanup: (() => Promise<void>)[] = [];
    return guarded(cleanup, async () => {
      // The account the twin's edge binds with (its smpp: systemId and password).
      const smsc = await startSmscSimulator({ port: 0, systemId: 'farm-edge', password: 'secret', logger: log });
      cleanup.push(() => smsc.close());
      const pump = startGsmPump(smsc, { number: FARM_NUMBERS.pump, to: FARM_NUMBERS.gateway, whitelist: [FARM_NUMBERS.gateway] });
      cleanup.push(async () => pump.close());
      return { env: { SMSC_HOST: '127.0.0.1', SMSC_PORT: String(smsc.port) }, devices: { smsc, pump }, stop: stopAll(cleanup) };
    });
  },
  factory: async (log) => {
    const plc = await startPressPlc({ log });
    return { env: { PLC_HOST: plc.host, PLC_PORT: String(plc.port) }, devices: { plc }, stop: () => plc.stop() };
  },
  fleet: async (log) => {
    const cleanup: (() => Promise<void>)[] = [];
    return guarded(cleanup, async () => {
      const { smsc, line } = await smsModemLine(cleanup, log, FLEET_NUMBERS.modem);
      const trackers = startTrackers(smsc, { to: FLEET_NUMBERS.modem, trackers: FLEET_NUMBERS.trackers });
      cleanup.push(async () => trackers.close());
      return { env: { MODEM_SERIAL: line.hostSide }, devices: { smsc, trackers }, stop: stopAll(cleanup) };
    });
  },
};

export function hasField(pack: string): pack is TwinPack {
  return Object.hasOwn(STARTERS, pack);
}

export function startField<P extends TwinPack>(pack: P, log: FieldLog): Promise<Field<P>> {
  return (STARTERS[pack] as Starter<P>)(log);
}
