/**
 * Which Store backs the platform, chosen by `store.kind`: SQLite in the data dir (the default),
 * PostgreSQL (the cluster's system of record), or memory (tests, demos). The MQTT broker's
 * sessions and retained messages go to the same backend where it keeps them.
 */
import type { Config } from './config.js';
import { openDataDir, secureDataDir } from './data-dir.js';
import { createMemoryBrokerState } from '../adapters/store/memory/broker-state.js';
import { createMemoryStore } from '../adapters/store/memory/index.js';
import { createPostgresStore } from '../adapters/store/postgres/index.js';
import type { BrokerStateStore, Logger, Store } from '../ports.js';
import { tokenHint, type TokenHasher } from '../services/registry.js';

/** The Store, and where the MQTT broker keeps its sessions and retained messages (the same backend). */
export async function openStore(config: Config, logger: Logger, tokens: TokenHasher): Promise<{ store: Store; brokerState: BrokerStateStore }> {
  if (config.store.kind === 'postgres') {
    secureDataDir(config.dataDir, logger); // ports.json, the credential key and OTA blobs still go there
    const store = await createPostgresStore({ ...config.store.postgres, logger: logger.child({ component: 'store' }) });
    // The broker's sessions and retained messages are not kept in PostgreSQL yet: in memory, per node.
    return { store, brokerState: createMemoryBrokerState() };
  }
  if (config.store.kind === 'memory') {
    secureDataDir(config.dataDir, logger); // ports.json still goes there
    return { store: createMemoryStore(), brokerState: createMemoryBrokerState() };
  }
  // A database from before schema v9 holds access tokens in clear; the migration hashes them.
  return openDataDir(config.dataDir, config.store.synchronous, logger, (token) => ({ hash: tokens.digest(token), hint: tokenHint(token) }));
}
