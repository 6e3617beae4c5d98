/**
 * --offline (no platform at all) and the connector's reconnect: the network to the PLC is cut and
 * restored (a TCP relay in between); polling resumes by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { Reading } from '../../src/edge/ports.js';
import { eventually, tempDir } from '../support/platform.js';
import { relay, startPlc } from './support.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('offline edge keeps polling; a lost PLC connection is re-established with backoff', async () => {
  const plc = await startPlc();
  const link = await relay(plc.port);
  const port = link.port;
  const config = parseEdgeConfig(
    `
platform: { url: "mqtt://\${UNSET_IN_OFFLINE_MODE}", token: x }
connectors:
  - type: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    timeoutMs: 300
    reconnect: { minMs: 100, maxMs: 400 }
    devices:
      - { name: plc-off, pollMs: 100, registers: [{ key: r0, address: 0 }] }
`,
    {},
    { offline: true },
  );
  const readings: Reading[] = [];
  const edge = await startEdge({ config, dataDir: tempDir(), offline: true, logger: quiet, onReading: (r) => readings.push(r) });
  try {
    await eventually(async () => (readings.length >= 3 ? true : undefined), 5000, 'readings offline');
    assert.equal(edge.status().buffer, undefined, 'no buffer without a platform');
    assert.equal(readings[0]?.values.r0, 1000);

    await link.cut();
    await eventually(async () => (edge.status().connectors[0]?.connected === false ? true : undefined), 5000, 'connection lost noticed');
    const whileDown = readings.length;
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(readings.length <= whileDown + 1, 'no readings without the PLC');

    await link.restore();
    await eventually(async () => (readings.length >= whileDown + 3 ? true : undefined), 10_000, 'polling resumed');
    assert.equal(edge.status().connectors[0]?.connected, true);
    assert.ok(readings.every((r, i) => i === 0 || r.ts > (readings[i - 1] as Reading).ts), 'timestamps strictly increase');
  } finally {
    await edge.stop();
    await link.cut().catch(() => undefined);
    await plc.stop();
  }
});
