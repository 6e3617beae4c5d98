/**
 * edgeConfigVersion is readable by everyone who can read the gateway device, and the running
 * configuration holds values substituted from the edge's environment: the version is keyed with
 * the edge's own key so it cannot confirm a guessed secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadEdgeConfig } from '../../src/edge/config.js';
import { ConfigPush, VERSION_KEY_FILE } from '../../src/edge/config-push/remote-config.js';
import { tempDir } from '../support/tmp.js';

const ENV = { CONTINUUM_URL: 'mqtt://127.0.0.1:1883', CONTINUUM_GATEWAY_TOKEN: 'tok', MODBUS_HOST: '127.0.0.1', MODBUS_PORT: '15020' };
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function push(dataDir: string): ConfigPush {
  return new ConfigPush({ file: loadEdgeConfig('examples/edge/modbus-plc.yaml', ENV), dataDir, env: ENV, logger: quiet, apply: async () => undefined, report: () => undefined });
}

test('regression: edgeConfigVersion is an unkeyed hash of the substituted config, so it confirms guessed secrets', () => {
  const dir = tempDir();
  const first = push(dir);
  assert.equal(push(dir).version, first.version, 'stable across restarts of one edge');
  assert.notEqual(push(tempDir()).version, first.version, 'another edge (another key) reports another version for the same config');
  assert.equal(statSync(join(dir, VERSION_KEY_FILE)).mode & 0o777, 0o600);
});
