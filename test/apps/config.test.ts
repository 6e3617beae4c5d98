import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DEFAULTS, envNameFor, loadConfig } from '../../src/apps/config.js';
import { tempDir } from '../support/tmp.js';

test('defaults are the embedded deployment', () => {
  const c = loadConfig();
  assert.equal(c.http.port, 8080);
  assert.equal(c.mqtt.port, 1883);
  assert.equal(c.coap.port, 5683);
  assert.equal(c.store.kind, 'sqlite');
  assert.equal(c.mqtt.profile, 'default');
});

test('file < environment < flags', () => {
  const file = join(tempDir(), 'c.yaml');
  writeFileSync(file, 'http:\n  port: 9000\nmqtt:\n  port: 9001\ncoap:\n  port: 9002\n');
  const c = loadConfig({ file, env: { CONTINUUM_MQTT_PORT: '9101', CONTINUUM_DATA_DIR: '/tmp/x' }, flags: { 'coap-port': '9202' } });
  assert.equal(c.http.port, 9000);
  assert.equal(c.mqtt.port, 9101);
  assert.equal(c.coap.port, 9202);
  assert.equal(c.dataDir, '/tmp/x');
});

test('env names follow the config path', () => {
  assert.equal(envNameFor('mqtt.maxKeepAlive'), 'CONTINUUM_MQTT_MAX_KEEP_ALIVE');
  assert.equal(envNameFor('dataDir'), 'CONTINUUM_DATA_DIR');
});

test('admin credentials come from CONTINUUM_ADMIN_EMAIL / _PASSWORD', () => {
  const c = loadConfig({ env: { CONTINUUM_ADMIN_EMAIL: 'a@b.c', CONTINUUM_ADMIN_PASSWORD: 'pw' } });
  assert.equal(c.auth.adminEmail, 'a@b.c');
  assert.equal(c.auth.adminPassword, 'pw');
});

test('an invalid value fails with the path and the flag to change', () => {
  assert.throws(() => loadConfig({ flags: { 'mqtt-port': '70000' } }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /mqtt\.port/);
    assert.match(e.message, /--mqtt-port/);
    return true;
  });
  assert.throws(() => loadConfig({ flags: { 'mqtt-profile': 'open' } }), ConfigError);
});

test('DEFAULTS satisfy the schema', () => {
  assert.deepEqual(loadConfig({ overrides: {} }), DEFAULTS);
});

test('hardening settings: outbound.allow from a comma list, metrics token, SMTP TLS mode; a bad allow entry stops startup', () => {
  const config = loadConfig({ env: { CONTINUUM_OUTBOUND_ALLOW: '127.0.0.1:9000, hooks.internal.example,10.1.0.0/16', CONTINUUM_METRICS_TOKEN: 'a-scraper-token-of-32-characters', CONTINUUM_NOTIFY_SMTP_TLS: 'none' } });
  assert.deepEqual(config.outbound.allow, ['127.0.0.1:9000', 'hooks.internal.example', '10.1.0.0/16']);
  assert.equal(config.metrics.token, 'a-scraper-token-of-32-characters');
  assert.equal(config.metrics.public, false);
  assert.equal(config.notify.smtp.tls, 'none');
  assert.equal(loadConfig({}).notify.smtp.tls, 'starttls', 'TLS is required by default');
  assert.deepEqual(loadConfig({}).outbound.allow, [], 'no exceptions by default');
  assert.throws(() => loadConfig({ env: { CONTINUUM_OUTBOUND_ALLOW: '127.1:80' } }), (err: Error) => err instanceof ConfigError && /outbound.allow "127.1:80": write IPv4 addresses as four decimal numbers/.test(err.message));
  assert.throws(() => loadConfig({ env: { CONTINUUM_NOTIFY_SMTP_TLS: 'maybe' } }), ConfigError);
});
