/**
 * `continuum start --demo NAME --m2m`: the pack's M2M twin beside the platform — the field
 * devices simulated on their own protocol (./field.ts), the twin's profiles and rules installed
 * through the REST API with a gateway device for the edge, and the edge gateway itself, in this
 * process, on the twin's shipped config (examples/edge/<pack>-m2m.yaml) connecting over MQTT
 * like a separate edge would.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startEdge, type Edge } from '../../edge/app.js';
import { loadEdgeConfig } from '../../edge/config.js';
import type { EdgeLogger } from '../../edge/ports.js';
import { ApiClient } from '../../protocols/management-api/client.js';
import { installTwin, type TwinInstallResult } from '../../scenarios/install.js';
import { requirePack } from '../../scenarios/run.js';
import type { PackTwin, ScenarioPack } from '../../scenarios/types.js';
import { hasField, startField, type Field, type TwinPack } from './field.js';

export interface M2mOptions {
  readonly pack: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  /** The platform's MQTT listener, where the edge connects. */
  readonly mqtt: { readonly host: string; readonly port: number };
  /** The edge's store-and-forward buffer and rule state go under here. */
  readonly dataDir: string;
  readonly log: EdgeLogger;
}

export interface M2mTwin<P extends TwinPack = TwinPack> {
  readonly pack: ScenarioPack & { twin: PackTwin };
  readonly install: TwinInstallResult;
  readonly field: Field<P>;
  readonly edge: Edge;
  stop(): Promise<void>;
}

export function requireTwin(name: string): ScenarioPack & { twin: PackTwin } {
  const pack = requirePack(name);
  if (!pack.twin || !hasField(pack.name)) throw new Error(`scenario "${name}" has no runnable M2M twin`);
  return pack as ScenarioPack & { twin: PackTwin };
}

export async function startM2mTwin<P extends TwinPack>(options: M2mOptions & { pack: P }): Promise<M2mTwin<P>> {
  const pack = requireTwin(options.pack);
  const install = await installTwin(new ApiClient(options.baseUrl, { 'x-api-key': options.apiKey }), pack, {
    log: (line) => options.log.info({ scenario: pack.name }, line.trim()),
  });
  const field = await startField(options.pack, options.log);
  try {
    const host = options.mqtt.host.includes(':') ? `[${options.mqtt.host}]` : options.mqtt.host;
    const config = loadEdgeConfig(pack.twin.edgeConfig, {
      ...field.env,
      CONTINUUM_EDGE_URL: `mqtt://${host}:${options.mqtt.port}`,
      CONTINUUM_GATEWAY_TOKEN: install.gateway.token,
    });
    const dataDir = join(options.dataDir, `edge-${pack.name}`);
    mkdirSync(dataDir, { recursive: true });
    const edge = await startEdge({ config, dataDir, logger: options.log });
    return {
      pack,
      install,
      field,
      edge,
      async stop() {
        await edge.stop().catch(() => undefined);
        await field.stop();
      },
    };
  } catch (err) {
    await field.stop();
    throw err;
  }
}
