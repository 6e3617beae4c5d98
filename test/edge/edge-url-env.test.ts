/** One meaning per variable: the edge's MQTT address is CONTINUUM_EDGE_URL; the old names still work, with a warning. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeEnvironment, loadEdgeConfig } from '../../src/edge/config.js';
import { runCli } from '../support/cli.js';

const REST = { CONTINUUM_GATEWAY_TOKEN: 'tok', MODBUS_HOST: '127.0.0.1', MODBUS_PORT: '15020' };

test('the examples read CONTINUUM_EDGE_URL; CONTINUUM_URL=mqtt://… and CONTINUUM_MQTT_URL still fill it, with a deprecation warning', () => {
  assert.equal(loadEdgeConfig('examples/edge/modbus-plc.yaml', { ...REST, CONTINUUM_EDGE_URL: 'mqtt://10.0.0.1:1883' }).platform?.url, 'mqtt://10.0.0.1:1883');
  const warnings: string[] = [];
  const env = edgeEnvironment({ ...REST, CONTINUUM_URL: 'mqtt://10.0.0.2:1883' }, (m) => warnings.push(m));
  assert.equal(env.CONTINUUM_EDGE_URL, 'mqtt://10.0.0.2:1883');
  assert.deepEqual(warnings, ["CONTINUUM_URL=mqtt://… for the edge is deprecated: set CONTINUUM_EDGE_URL (CONTINUUM_URL is the CLI's http:// API address)"]);
  assert.equal(edgeEnvironment({ CONTINUUM_MQTT_URL: 'mqtts://h:8883' }, () => undefined).CONTINUUM_EDGE_URL, 'mqtts://h:8883');
  // The CLI's meaning (http://) is never taken for the edge's, and the new name wins over the old.
  assert.equal(edgeEnvironment({ CONTINUUM_URL: 'http://127.0.0.1:8080' }, () => assert.fail('no warning')).CONTINUUM_EDGE_URL, undefined);
  assert.equal(edgeEnvironment({ CONTINUUM_URL: 'mqtt://old', CONTINUUM_EDGE_URL: 'mqtt://new' }, () => assert.fail('no warning')).CONTINUUM_EDGE_URL, 'mqtt://new');
  assert.throws(() => loadEdgeConfig('examples/edge/modbus-plc.yaml', { ...REST, CONTINUUM_URL: 'http://127.0.0.1:8080' }), /environment variable CONTINUUM_EDGE_URL is not set/);
});

test('continuum edge prints the deprecation warning on stderr', async () => {
  // A missing config file stops it right after the warning, which comes first, on stderr.
  const res = await runCli(['edge', '--config', '/nonexistent/edge.yaml'], { ...REST, CONTINUUM_URL: 'mqtt://127.0.0.1:9' });
  assert.match(res.stderr, /^continuum edge: warning: CONTINUUM_URL=mqtt:\/\/… for the edge is deprecated: set CONTINUUM_EDGE_URL .*\ncontinuum edge: cannot read \/nonexistent\/edge.yaml/);
  assert.equal(res.code, 1);
});
