/** The cluster ports' contract on the memory implementation (a hand-driven clock). */
import { createMemoryCluster } from '../../../src/adapters/cluster/memory/index.js';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { clusterContract } from './contract.js';

clusterContract('memory', () => {
  let now = 1_000_000;
  const store = createMemoryStore();
  const cluster = createMemoryCluster({ now: () => now }, store);
  return Promise.resolve({
    cluster,
    store,
    pass(ms: number) {
      now += ms;
      return Promise.resolve();
    },
    close: () => store.close(),
  });
});
