/**
 * This process's node id: what sessions (Presence), RPC requests and command claims carry, so
 * nodes sharing a store and a bus can tell their work apart. Sources, first found wins:
 *   1. config `node.id` (env CONTINUUM_NODE_ID);
 *   2. the file `node-id` in the data dir, created on first start as `<hostname>-<8 hex>`.
 * Kept in the data dir because the command outbox recognises its own claims by it: a node that
 * restarts with the same id takes back at once the commands its earlier run had in flight,
 * instead of waiting for their leases to expire. The data dir lock keeps two processes from
 * sharing one file, hence one id; a copied data dir must get a new id (delete the file).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NODE_ID_PATTERN, type Config } from './config.js';

export const NODE_ID_FILE = 'node-id';

/** `<hostname>-<8 hex>`, the host name cut to what NODE_ID_PATTERN allows. */
export function generateNodeId(host = hostname()): string {
  const name = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 54) || 'node';
  return `${name}-${randomBytes(4).toString('hex')}`;
}

function check(id: string, where: string): string {
  if (!new RegExp(NODE_ID_PATTERN).test(id)) throw new ConfigError(`${where}: a node id is 1..64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(id)}`);
  return id;
}

/** The node id; the data dir must exist (secureDataDir). */
export function loadNodeId(config: Config): string {
  if (config.node.id !== undefined) return check(config.node.id, 'node.id');
  const file = join(config.dataDir, NODE_ID_FILE);
  try {
    // 'wx': never overwrite (a racing first start reads the winner's id).
    writeFileSync(file, `${generateNodeId()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return check(readFileSync(file, 'utf8').trim(), file);
}
