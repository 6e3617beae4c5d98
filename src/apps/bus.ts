/** Picks the Bus implementation the configuration names (the composition root's one place for it). */
import { MemoryBus } from '../adapters/bus/memory/index.js';
import type { Bus, Logger } from '../ports.js';

export function createBus(config: { readonly kind: string }, logger: Logger): Bus {
  switch (config.kind) {
    case 'memory':
      return new MemoryBus(logger);
    case 'nats':
      throw new Error("bus.kind 'nats' is not available yet in this build (NATS JetStream arrives with the cluster deployment); use bus.kind 'memory'");
    default:
      throw new Error(`unknown bus.kind '${config.kind}': expected 'memory'`);
  }
}
