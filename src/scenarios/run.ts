/**
 * Plays an installed pack: its devices become simulator devices over their protocols, and the
 * demo (`continuum start --demo NAME`) installs a pack into the platform it runs in and starts
 * the simulation beside it, talking to that platform's REST API like any client.
 */
import { ApiClient } from '../protocols/management-api/client.js';
import { startSimulation, type SimDevice, type Simulation } from '../simulator/engine.js';
import type { LinkLog } from '../simulator/clients/types.js';
import { getPack, PACKS } from './index.js';
import { installPack, type InstallResult, type InstalledDevice } from './install.js';
import type { ScenarioPack, SimProtocol } from './types.js';

export interface PlayOptions {
  /** Simulated clock speed; default the pack's demo speed. */
  readonly speed?: number;
  /** Every device on this protocol instead of its group's. */
  readonly protocol?: SimProtocol;
}

/**
 * The simulator's view of installed devices. A group's interval is wall-clock seconds, the
 * engine's is simulated seconds: multiplied by the speed so a faster clock does not send more.
 */
export function simDevicesOf(pack: ScenarioPack, devices: readonly InstalledDevice[], options: PlayOptions = {}): SimDevice[] {
  const speed = options.speed ?? pack.demoSpeed ?? 1;
  return devices.map((d) => {
    const model = pack.models[d.group.model];
    if (!model) throw new Error(`${pack.name}: no model ${d.group.model}`);
    return {
      name: d.name,
      token: d.token,
      model,
      protocol: options.protocol ?? d.group.protocol ?? 'mqtt',
      intervalS: (d.group.intervalS ?? 1) * speed,
      index: d.index,
      ...(d.group.batch && d.group.batch > 1 ? { batch: d.group.batch } : {}),
    };
  });
}

export function requirePack(name: string): ScenarioPack {
  const pack = getPack(name);
  if (!pack) throw new Error(`unknown scenario "${name}" (known: ${PACKS.map((p) => p.name).join(', ')})`);
  return pack;
}

export interface DemoOptions {
  readonly pack: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly host: string;
  readonly ports: { readonly mqtt: number; readonly coap: number };
  readonly devicesPerGroup?: number;
  readonly speed?: number;
  readonly log: LinkLog;
}

export interface Demo {
  readonly pack: ScenarioPack;
  readonly install: InstallResult;
  readonly simulation: Simulation;
  stop(): Promise<void>;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const pack = requirePack(options.pack);
  const install = await installPack(new ApiClient(options.baseUrl, { 'x-api-key': options.apiKey }), pack, {
    ...(options.devicesPerGroup !== undefined ? { devicesPerGroup: options.devicesPerGroup } : {}),
    log: (line) => options.log.info({ scenario: pack.name }, line.trim()),
  });
  const simulation = startSimulation({
    devices: simDevicesOf(pack, install.devices, options.speed !== undefined ? { speed: options.speed } : {}),
    endpoints: { mqtt: { host: options.host, port: options.ports.mqtt }, coap: { host: options.host, port: options.ports.coap }, http: options.baseUrl },
    speed: options.speed ?? pack.demoSpeed ?? 1,
    log: options.log,
  });
  return { pack, install, simulation, stop: () => simulation.stop() };
}
