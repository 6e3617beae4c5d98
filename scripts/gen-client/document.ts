/**
 * The platform's OpenAPI document exactly as a server answers GET /api/openapi.json: a whole
 * platform started in this process (memory store, temporary data dir, ports chosen by the OS,
 * 127.0.0.1 only), asked once, then stopped. Built this way rather than from the route modules so
 * that what the client is generated from is what clients really get (every plugin the platform
 * registers, the shared schemas, @fastify/swagger's own transformation).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform } from '../../src/apps/platform.js';
import type { OpenApiDocument } from './print-operations.js';

export async function platformOpenApi(): Promise<OpenApiDocument> {
  const dataDir = mkdtempSync(join(tmpdir(), 'continuum-openapi-'));
  try {
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        host: '127.0.0.1',
        http: { port: 0 },
        mqtt: { port: 0, tlsPort: 0 },
        coap: { port: 0 },
        store: { kind: 'memory' },
        auth: { adminEmail: 'openapi@gen-client.local', adminPassword: 'gen-client-password-1', passwordHashCost: 1024 },
        log: { level: 'silent' },
      },
    });
    const platform = await startPlatform(config);
    try {
      const res = await fetch(`http://127.0.0.1:${platform.ports.http}/api/openapi.json`);
      if (res.status !== 200) throw new Error(`GET /api/openapi.json: ${res.status}`);
      return (await res.json()) as OpenApiDocument;
    } finally {
      await platform.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
