/**
 * Which Store backs the platform, chosen by `store.kind`: SQLite in the data dir (the default),
 * PostgreSQL (the cluster's system of record), or memory (tests, demos). The MQTT broker's
 * sessions and retained messages go to the same backend where it keeps them, and so does Presence
 * (which node holds which device's session): in PostgreSQL it is shared by every node.
 */
import type { Config } from './config.js';
import { openDataDir, secureDataDir } from './data-dir.js';
import { loadNodeId } from './node-id.js';
import { MemoryPresence } from '../adapters/presence/memory/presence.js';
import { PostgresPresence } from '../adapters/presence/postgres/presence.js';
import { createMemoryBrokerState } from '../adapters/store/memory/broker-state.js';
import { createMemoryStore } from '../adapters/store/memory/index.js';
import { createPgBrokerState } from '../adapters/store/postgres/broker-state.js';
import { createPool } from '../adapters/store/postgres/db.js';
import { createPostgresStore } from '../adapters/store/postgres/index.js';
import type { BrokerStateStore, Clock, Logger, Presence, Store } from '../ports.js';
import { tokenHint, type TokenHasher } from '../services/registry.js';

/** The store-side parts the platform opens together; `close` ends what they hold beyond the Store. */
export interface OpenedStore {
  readonly store: Store;
  readonly brokerState: BrokerStateStore;
  readonly presence: Presence;
  closeShared(): Promise<void>;
}

/** The Store, where the MQTT broker keeps its sessions and retained messages, and Presence (the same backend). */
export async function openStore(config: Config, logger: Logger, tokens: TokenHasher, clock: Clock): Promise<OpenedStore> {
  const none = (): Promise<void> => Promise.resolve();
  if (config.store.kind === 'postgres') {
    secureDataDir(config.dataDir, logger); // ports.json, the credential key and OTA blobs still go there
    const store = await createPostgresStore({ ...config.store.postgres, logger: logger.child({ component: 'store' }) });
    // Presence and the MQTT broker's state are written on connects, disconnects and commands: a few
    // connections of their own, so a busy ingest pool does not hold sessions up. Their tables come
    // from the store's migrations; both are shared by every node (sessions are held per node id).
    const pool = createPool({ ...config.store.postgres, poolSize: Math.min(6, config.store.postgres.poolSize) });
    pool.on('error', (err) => logger.warn({ err }, 'postgres session-state connection lost'));
    const brokerState = createPgBrokerState(pool, loadNodeId(config));
    return { store, brokerState, presence: new PostgresPresence(pool), closeShared: () => pool.end() };
  }
  // One process: presence in memory.
  if (config.store.kind === 'memory') {
    secureDataDir(config.dataDir, logger); // ports.json still goes there
    return { store: createMemoryStore(), brokerState: createMemoryBrokerState(), presence: new MemoryPresence(clock), closeShared: none };
  }
  // A database from before schema v9 holds access tokens in clear; the migration hashes them.
  const opened = openDataDir(config.dataDir, config.store.synchronous, logger, (token) => ({ hash: tokens.digest(token), hint: tokenHint(token) }));
  return { ...opened, presence: new MemoryPresence(clock), closeShared: none };
}
