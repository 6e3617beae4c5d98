/** Logs for people: JSON when piped, pretty on a terminal; the banner and one-time password on stderr; shutdown confirmed. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { test } from 'node:test';
import { logFormat } from '../../src/apps/log-output.js';
import { tempDir, waitForExit } from '../support/platform.js';

test('the format follows the terminal unless CONTINUUM_LOG_FORMAT says', () => {
  assert.equal(logFormat({}, true), 'pretty');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ CONTINUUM_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ CONTINUUM_LOG_FORMAT: 'pretty' }, false), 'pretty');
});

async function runOnce(env: Record<string, string>, during?: (ports: { http: number; mqtt: number }) => Promise<void>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const dir = tempDir();
  const child = spawn(process.execPath, ['bin/continuum.mjs', 'start', '--data-dir', dir, '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0', '--store', 'memory'], {
    env: { PATH: process.env.PATH ?? '', CONTINUUM_AUTH_PASSWORD_HASH_COST: '1024', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!existsSync(join(dir, 'ports.json')) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  if (during) await during(JSON.parse(readFileSync(join(dir, 'ports.json'), 'utf8')) as { http: number; mqtt: number });
  child.kill('SIGTERM');
  const code = await waitForExit(child);
  return { stdout, stderr, code };
}

test('piped: every stdout line is JSON; banner and generated password on stderr; "shutdown complete" last', async () => {
  const { stdout, stderr, code } = await runOnce({});
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: number });
  assert.ok(lines.some((l) => l.msg === 'mqtt listening'));
  assert.equal(lines.at(-1)?.msg, 'shutdown complete');
  assert.match(stderr, /Continuum is running:\n {2}mqtt {5}mqtt:\/\/127\.0\.0\.1:\d+/);
  assert.match(stderr, /This password is shown only once:\n {2}email {4}\S+\n {2}password \S+/);
  assert.doesNotMatch(stdout, /Continuum is running|shown only once/);
});

test('CONTINUUM_LOG_FORMAT=pretty: one readable line per event', async () => {
  const { stdout, code } = await runOnce({ CONTINUUM_LOG_FORMAT: 'pretty', CONTINUUM_ADMIN_EMAIL: 'a@b.test', CONTINUUM_ADMIN_PASSWORD: 'a-password-123456' });
  assert.equal(code, 0);
  assert.match(stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: mqtt listening \{"transport":"mqtt","url":"mqtt:\/\/127\.0\.0\.1:\d+"\}$/m);
  assert.match(stdout, /INFO: shutdown complete/);
});

test('a device connecting and disconnecting is an info line each, with its id and transport', async () => {
  const admin = { email: 'ops@b.test', password: 'an-ops-password-1' };
  let deviceId = '';
  const { stdout, code } = await runOnce({ CONTINUUM_ADMIN_EMAIL: admin.email, CONTINUUM_ADMIN_PASSWORD: admin.password }, async (ports) => {
    const base = `http://127.0.0.1:${ports.http}`;
    const login = (await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) })).json()) as { token: string };
    const device = (await (
      await fetch(`${base}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}` }, body: JSON.stringify({ name: 'logged-1' }) })
    ).json()) as { id: string; accessToken: string };
    deviceId = device.id;
    await promisify(execFile)('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(ports.mqtt), '-u', device.accessToken, '-t', 'v1/devices/me/telemetry', '-m', '{"t":1}', '-q', '1']);
    await new Promise((r) => setTimeout(r, 300));
  });
  assert.equal(code, 0);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; deviceId?: string; transport?: string; level: number });
  const connected = lines.find((l) => l.msg === 'device connected');
  assert.deepEqual([connected?.deviceId, connected?.transport, connected?.level], [deviceId, 'mqtt', 30]);
  assert.ok(lines.some((l) => l.msg === 'device disconnected' && l.deviceId === deviceId), stdout);
});
