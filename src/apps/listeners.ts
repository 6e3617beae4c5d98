/**
 * The platform's listeners seen from outside: ports.json (what clients and tests read to find a
 * port 0 listener), a taken port explained as the flag to change, and HTTP servers closed without
 * letting one lingering client hold up shutdown.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { flagFor } from './config.js';
import type { ListeningAddress, Logger } from '../ports.js';

/** Grace period for in-flight HTTP requests at shutdown; then their connections are cut. */
const HTTP_CLOSE_GRACE_MS = 3_000;

/**
 * Closes an HTTP server without letting a client that keeps a request open (a device's
 * long-running download, a proxy holding a poll) delay shutdown: after the grace period every
 * remaining connection is closed. Regression: the platform took 70 s to stop while a simulator
 * with HTTP devices had just disconnected.
 */
export async function closeServer(app: FastifyInstance, name: string, logger: Logger): Promise<void> {
  const timer = setTimeout(() => {
    logger.warn({ server: name, graceMs: HTTP_CLOSE_GRACE_MS }, 'HTTP requests still open at shutdown; closing their connections');
    app.server.closeAllConnections();
  }, HTTP_CLOSE_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

/** A taken port becomes one line that says which flag to change. */
export function explainListenError(err: unknown, what: string, configPath: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const flag = flagFor(configPath) ?? configPath;
    return new Error(`${what} port is ${code === 'EADDRINUSE' ? 'already in use' : 'not permitted'}: choose another with ${flag} (0 picks a free port)`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function writePortsFile(dataDir: string, ports: Record<string, number>): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'ports.json');
  // Written atomically: a watcher sees either no file or the whole file.
  writeFileSync(`${file}.tmp`, JSON.stringify(ports) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** Each listener name's first port; http, mqtt and coap always present (0: not listening). */
export function portsOf(addresses: readonly ListeningAddress[]): { http: number; mqtt: number; coap: number } & Record<string, number> {
  const ports: Record<string, number> = {};
  for (const a of addresses) if (!(a.name in ports)) ports[a.name] = a.port;
  return { http: ports.http ?? 0, mqtt: ports.mqtt ?? 0, coap: ports.coap ?? 0, ...ports };
}
