/**
 * The running connectors, replaceable while the edge runs. A new connector list is compared
 * with the running one by each connector's canonical configuration: an identical config keeps
 * its connector (and its field connection) untouched; one that changed or went is stopped
 * before the new ones start, so a port, serial line or SMPP bind is free again when its
 * successor opens it.
 */
import type { EdgeConfig } from '../config.js';
import type { Connector, EdgeLogger, ReadingSink } from '../ports.js';
import { canonicalJson } from '../rules/fingerprint.js';

export type ConnectorConfig = EdgeConfig['connectors'][number];
export type ConnectorFactory = (configs: ConnectorConfig[]) => Connector[];

interface Running {
  readonly key: string;
  readonly config: ConnectorConfig;
  readonly connector: Connector;
}

export interface ReplaceResult {
  readonly kept: string[];
  readonly stopped: string[];
  readonly started: string[];
}

export class ConnectorSet {
  private running: Running[];

  constructor(
    configs: readonly ConnectorConfig[],
    private readonly factory: ConnectorFactory,
    private readonly logger: EdgeLogger,
  ) {
    this.running = this.create(configs);
  }

  get list(): Connector[] {
    return this.running.map((r) => r.connector);
  }

  devices(): string[] {
    return this.running.flatMap((r) => r.connector.devices);
  }

  /**
   * The configured `type` of a child (its profile on the platform), sent when the child is
   * announced (v1/gateway/connect); undefined for a device its config gives none, or none at all
   * (Sparkplug devices appear at run time).
   */
  typeOf(device: string): string | undefined {
    for (const r of this.running) {
      for (const d of r.config.devices as readonly { name?: unknown; type?: unknown }[]) {
        if (d.name === device && typeof d.type === 'string') return d.type;
      }
    }
    return undefined;
  }

  /** The connector answering for `device`. */
  owner(device: string): Connector | undefined {
    return this.running.find((r) => r.connector.devices.includes(device))?.connector;
  }

  async start(sink: ReadingSink): Promise<void> {
    for (const r of this.running) await r.connector.start(sink);
  }

  async replace(configs: readonly ConnectorConfig[], sink: ReadingSink): Promise<ReplaceResult> {
    const wanted = configs.map((c) => canonicalJson(c));
    const keep = this.running.filter((r) => wanted.includes(r.key));
    const drop = this.running.filter((r) => !wanted.includes(r.key));
    for (const r of drop) await this.stopOne(r.connector);
    const keptKeys = new Set(keep.map((r) => r.key));
    const fresh = this.create(configs.filter((_, i) => !keptKeys.has(wanted[i] as string)));
    // The new set in the order of the new config, so status lists read like the config.
    const byKey = new Map([...keep, ...fresh].map((r) => [r.key, r]));
    this.running = wanted.map((k) => byKey.get(k)).filter((r): r is Running => r !== undefined);
    for (const r of fresh) {
      try {
        await r.connector.start(sink);
      } catch (err) {
        // A connector that cannot start now retries on its own schedule; the others still run.
        this.logger.error({ connector: r.connector.name, err: err instanceof Error ? err.message : String(err) }, 'pushed connector failed to start');
      }
    }
    return { kept: keep.map((r) => r.connector.name), stopped: drop.map((r) => r.connector.name), started: fresh.map((r) => r.connector.name) };
  }

  async stop(): Promise<void> {
    for (const r of this.running) await this.stopOne(r.connector);
  }

  private create(configs: readonly ConnectorConfig[]): Running[] {
    const connectors = this.factory([...configs]);
    return connectors.map((connector, i) => ({ key: canonicalJson(configs[i]), config: configs[i] as ConnectorConfig, connector }));
  }

  private async stopOne(connector: Connector): Promise<void> {
    try {
      await connector.stop();
    } catch (err) {
      this.logger.warn({ connector: connector.name, err: err instanceof Error ? err.message : String(err) }, 'connector did not stop cleanly');
    }
  }
}
