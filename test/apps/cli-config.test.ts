/** `continuum config check|print`, and `continuum start` refusing a config with an unknown setting. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

test('continuum start with an unknown config key exits 1 naming the key, and starts nothing', async () => {
  const dir = tempDir();
  const file = join(dir, 'continuum.yaml');
  writeFileSync(file, `dataDir: ${join(dir, 'data')}\nhttpPort: 18080\n`);
  const res = await runCli(['start', '--config', file]);
  assert.equal(res.code, 1);
  assert.equal(res.stderr, `continuum: invalid configuration:\n  ${file}:2: unknown setting "httpPort" (did you mean "http.port"?)\n`);
  assert.equal(res.stdout, '');
  assert.equal(existsSync(join(dir, 'data')), false, 'no data dir was created');
});

test('config check: valid, or every problem with file and line and exit 1', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ http: { port: 9000 }, store: { kind: 'memory' } }, null, 2));
  const ok = await runCli(['config', 'check', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${good}: valid (2 settings from the file)\n`);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'store:\n  kind: oracle\nmqtt:\n  maxKeepalive: 10\n');
  const res = await runCli(['config', 'check', bad]);
  assert.equal(res.code, 1);
  assert.equal(
    res.stderr,
    `continuum: invalid configuration:\n  ${bad}:4: unknown setting "mqtt.maxKeepalive" (did you mean "mqtt.maxKeepAlive"?)\n  ${bad}:2: store.kind: must be one of sqlite, memory, postgres; got "oracle"\n`,
  );
  assert.equal((await runCli(['config', 'check'])).code, 1);
});

test('config print: the effective config with each value\'s source; secrets hidden', async () => {
  const file = join(tempDir(), 'c.yaml');
  writeFileSync(file, 'http:\n  port: 9000\n');
  const env = { CONTINUUM_MQTT_PORT: '1999', CONTINUUM_ADMIN_PASSWORD: 'hunter2-hunter2' };
  const res = await runCli(['config', 'print', '--config', file, '--coap-port', '0', '--json'], env);
  assert.equal(res.code, 0, res.stderr);
  const rows = new Map((JSON.parse(res.stdout) as { path: string; value: unknown; source: string; where?: string }[]).map((r) => [r.path, r]));
  assert.deepEqual(rows.get('http.port'), { path: 'http.port', value: 9000, source: 'file', where: `${file}:2` });
  assert.deepEqual(rows.get('mqtt.port'), { path: 'mqtt.port', value: 1999, source: 'env', where: 'CONTINUUM_MQTT_PORT' });
  assert.deepEqual(rows.get('coap.port'), { path: 'coap.port', value: 0, source: 'flag', where: '--coap-port' });
  assert.deepEqual(rows.get('store.kind'), { path: 'store.kind', value: 'sqlite', source: 'default' });
  assert.deepEqual(rows.get('auth.adminPassword'), { path: 'auth.adminPassword', value: '(set)', source: 'env', where: 'CONTINUUM_ADMIN_PASSWORD' });
  assert.doesNotMatch(res.stdout, /hunter2/);

  const text = await runCli(['config', 'print'], env);
  assert.match(text.stdout, /^SETTING\s+VALUE\s+SOURCE\n/);
  assert.match(text.stdout, /\nmqtt\.port\s+1999\s+env CONTINUUM_MQTT_PORT\n/);
});
