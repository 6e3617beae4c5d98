/** Config mistakes are refused with the file, the line, the setting and what would be right. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, loadConfigWithOrigins } from '../../src/apps/config.js';
import { didYouMean } from '../../src/apps/config-file.js';
import { tempDir } from '../support/tmp.js';

function write(name: string, text: string): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    const [head, ...lines] = err.message.split('\n');
    assert.equal(head, 'invalid configuration:');
    return lines.map((l) => l.trim());
  }
  assert.fail('expected a ConfigError');
}

test('unknown settings are errors with file, line and the nearest known setting; enums list their values', () => {
  const file = write('c.yaml', 'httpPort: 18080\nmqtt:\n  prot: 1\n  profile: defualt\nstore:\n  kind: sqllite\nlog:\n  level: verbose\nwebb: {}\n');
  assert.deepEqual(problems(() => loadConfig({ file })), [
    `${file}:1: unknown setting "httpPort" (did you mean "http.port"?)`,
    `${file}:3: unknown setting "mqtt.prot" (did you mean "mqtt.port"?)`,
    `${file}:9: unknown setting "webb" (did you mean "web"?)`,
    `${file}:4: mqtt.profile: must be one of default, conformance; got "defualt" (did you mean default?)`,
    `${file}:6: store.kind: must be one of sqlite, memory, postgres; got "sqllite" (did you mean sqlite?)`,
    `${file}:8: log.level: must be one of trace, debug, info, warn, error, fatal, silent; got "verbose"`,
  ]);
});

test('JSON files: a syntax error names the file and line; a wrong type names the line of its key', () => {
  const broken = write('broken.json', '{\n  "http": { "port": 1, },\n}\n');
  const [syntax] = problems(() => loadConfig({ file: broken }));
  assert.match(syntax ?? '', new RegExp(`^${broken}:2: invalid JSON: `));
  const typed = write('typed.json', '{\n  "http": {\n    "port": "eighty"\n  }\n}\n');
  assert.deepEqual(problems(() => loadConfig({ file: typed })), [`${typed}:3: http.port: Expected integer; got "eighty"`]);
  const yaml = write('bad.yaml', 'http:\n  port: 1\n port: 2\n');
  assert.match(problems(() => loadConfig({ file: yaml }))[0] ?? '', new RegExp(`^${yaml}:3: invalid YAML: `));
  assert.deepEqual(problems(() => loadConfig({ file: join(tempDir(), 'nope.yaml') })).length, 1);
  assert.match(problems(() => loadConfig({ file: write('list.yaml', '- a\n') }))[0] ?? '', /must be a mapping of settings, not a list/);
});

test('environment and flag errors name the variable or the flag', () => {
  assert.deepEqual(problems(() => loadConfig({ env: { CONTINUUM_STORE_KIND: 'oracle' } })), [
    'store.kind: must be one of sqlite, memory, postgres; got "oracle" (from environment variable CONTINUUM_STORE_KIND)',
  ]);
  assert.deepEqual(problems(() => loadConfig({ flags: { 'http-port': '-1' } })), ['http.port: Expected integer to be greater or equal to 0; got -1 (from flag --http-port)']);
});

test('every setting knows its source: default, file with line, env, flag', () => {
  const file = write('c.yaml', '# comment\nhttp:\n  port: 9000\noutbound:\n  allow: [a.example]\n');
  const { config, origins } = loadConfigWithOrigins({ file, env: { CONTINUUM_MQTT_PORT: '1999' }, flags: { 'coap-port': '0' } });
  assert.equal(config.http.port, 9000);
  assert.deepEqual(origins.get('http.port'), { source: 'file', where: `${file}:3` });
  assert.deepEqual(origins.get('outbound.allow'), { source: 'file', where: `${file}:5` });
  assert.deepEqual(origins.get('mqtt.port'), { source: 'env', where: 'CONTINUUM_MQTT_PORT' });
  assert.deepEqual(origins.get('coap.port'), { source: 'flag', where: '--coap-port' });
  assert.deepEqual(origins.get('http.requestTimeoutMs'), { source: 'default' });
});

test('didYouMean stays quiet when nothing is close', () => {
  assert.equal(didYouMean('frobnicate', ['http', 'mqtt', 'coap']), undefined);
  assert.equal(didYouMean('mqtt.maxKeepalive', ['mqtt.maxKeepAlive', 'mqtt.port']), 'mqtt.maxKeepAlive');
});
