import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEdgeConfig, parseEdgeConfig, substituteEnv, EdgeConfigError } from '../../src/edge/config.js';

const ENV = { CONTINUUM_EDGE_URL: 'mqtt://127.0.0.1:1883', CONTINUUM_GATEWAY_TOKEN: 'tok', MODBUS_HOST: '127.0.0.1', MODBUS_PORT: '15020' };

test('the shipped example: env substituted, port converted, the contract keys present', () => {
  const c = loadEdgeConfig('examples/edge/modbus-plc.yaml', ENV);
  assert.equal(c.platform?.url, 'mqtt://127.0.0.1:1883');
  assert.equal(c.platform?.token, 'tok');
  const plc = c.connectors[0];
  assert.ok(plc?.type === 'modbus-tcp', 'the example is one Modbus TCP connector');
  assert.equal(plc.port, 15020);
  const dev = plc.devices[0];
  assert.equal(dev?.name, 'plc-1');
  assert.equal(dev?.unitId, 1);
  assert.equal(dev?.pollMs, 1000);
  assert.deepEqual(dev?.registers.slice(0, 10).map((r) => [r.key, r.fc, r.address]), Array.from({ length: 10 }, (_, i) => [`r${i}`, 3, i]));
  const t = dev?.registers.find((r) => r.key === 'temperature');
  assert.deepEqual([t?.address, t?.type, t?.wordOrder], [10, 'float32', 'big']);
});

test('unset variables and schema problems are all listed with their paths', () => {
  assert.throws(() => loadEdgeConfig('examples/edge/modbus-plc.yaml', {}), (err: Error) => {
    assert.ok(err instanceof EdgeConfigError);
    for (const name of Object.keys(ENV)) assert.match(err.message, new RegExp(`environment variable ${name} is not set`));
    return true;
  });
  assert.throws(() => loadEdgeConfig('examples/edge/modbus-plc.yaml', { ...ENV, MODBUS_PORT: 'five' }), /connectors\[0\]\.port: Expected integer/);
  const bad = `
platform: { url: "mqtt://x", token: t }
connectors:
  - type: modbus-tcp
    host: h
    devices:
      - name: d
        registers: [{ key: a, fc: 1, address: 0, type: uint16 }, { key: a, address: 1 }]
        commands: [{ method: m, fc: 6, address: 0, type: float32 }]
rules:
  - { name: r, device: nope, condition: "a >", actions: [{ type: webhook }] }
`;
  assert.throws(() => parseEdgeConfig(bad, {}), (err: Error) => {
    for (const part of ['type must be bool', '"a" is defined twice', 'use function code 16', 'no device "nope"', 'does not run on the edge', 'rules[0].condition']) assert.ok(err.message.includes(part), `${part} in ${err.message}`);
    return true;
  });
});

test('--offline needs no platform section nor its variables; $${ is a literal', () => {
  const c = loadEdgeConfig('examples/edge/modbus-plc.yaml', { MODBUS_HOST: 'h', MODBUS_PORT: '502' }, { offline: true });
  assert.equal(c.platform, undefined);
  assert.deepEqual(substituteEnv({ a: ['x${A}y', '$${A}'] }, { A: '1' }), { a: ['x1y', '${A}'] });
});
