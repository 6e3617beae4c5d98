/** Picks the Bus implementation the configuration names (the composition root's one place for it). */
import { MemoryBus } from '../adapters/bus/memory/index.js';
import { NatsBus } from '../adapters/bus/nats/index.js';
import type { Bus, Logger } from '../ports.js';
import type { Config } from './config.js';

/**
 * The configured bus. A NATS bus connects here, so a server that is unreachable (or has no
 * JetStream) refuses the start with one UNAVAILABLE error instead of failing later.
 */
export async function createBus(config: { readonly kind: string; readonly nats?: Config['bus']['nats'] }, logger: Logger, nodeId?: string): Promise<Bus> {
  switch (config.kind) {
    case 'memory':
      return new MemoryBus(logger);
    case 'nats': {
      const nats = config.nats;
      if (nats === undefined) throw new Error("bus.kind 'nats' needs bus.nats (url, prefix, partitions)");
      return NatsBus.connect(
        {
          url: nats.url,
          prefix: nats.prefix,
          partitions: nats.partitions,
          replicas: nats.replicas,
          ackWaitMs: nats.ackWaitMs,
          maxAgeMs: nats.maxAgeSeconds * 1000,
          ...(nodeId === undefined ? {} : { name: `continuum-${nodeId}` }),
        },
        logger,
      );
    }
    default:
      throw new Error(`unknown bus.kind '${config.kind}': expected 'memory' or 'nats'`);
  }
}
