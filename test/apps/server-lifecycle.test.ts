/**
 * Starting and stopping the server as users do: one server per data dir, the first admin shown
 * even when the first start failed, and `npm start` stopped by a signal to npm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../src/apps/config.js';
import { LOCK_FILE } from '../../src/apps/data-dir-lock.js';
import { startPlatform } from '../../src/apps/platform.js';
import { ADMIN, apiClient, eventually, spawnServer, tempDir, waitForExit } from '../support/platform.js';

function configFor(dataDir: string, mqttPort = 0, adminPassword: string | undefined = ADMIN.password) {
  return loadConfig({
    env: {},
    overrides: {
      dataDir,
      host: '127.0.0.1',
      http: { port: 0 },
      mqtt: { port: mqttPort, tlsPort: 0 },
      coap: { port: 0 },
      auth: { adminEmail: ADMIN.email, ...(adminPassword ? { adminPassword } : {}), jwtTtlSeconds: 3600 },
      log: { level: 'silent' },
    },
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('regression: two servers can run on one data dir — the second start is refused with one line', async () => {
  const dataDir = tempDir();
  const first = await startPlatform(configFor(dataDir));
  try {
    const second = spawnSync(process.execPath, ['bin/continuum.mjs', 'start', '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(second.status, 1);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0] ?? '', /data directory .* is in use by another Continuum server \(pid \d+\)/);
    // In the same process too (a test or an embedding application).
    await assert.rejects(startPlatform(configFor(dataDir)), /in use by another Continuum server/);
  } finally {
    await first.stop();
  }
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the lock is released at stop');
  const again = await startPlatform(configFor(dataDir));
  await again.stop();
});

test('a lock left by a killed server is taken over', async () => {
  const dataDir = tempDir();
  const server = await spawnServer(dataDir);
  server.child.kill('SIGKILL');
  await waitForExit(server.child);
  assert.ok(existsSync(join(dataDir, LOCK_FILE)), 'kill -9 leaves the lock file');
  const restarted = await startPlatform(configFor(dataDir));
  await restarted.stop();
});

test('regression: a first start that fails after the admin was created never shows the password', async () => {
  const dataDir = tempDir();
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    // No password configured: this start would generate one and print it only on success.
    await assert.rejects(startPlatform(configFor(dataDir, port, undefined)), /already in use/);
  } finally {
    taken.close();
  }
  // The failed start created no user, so this start's configured password is the admin's.
  const platform = await startPlatform(configFor(dataDir));
  try {
    assert.equal(platform.generatedAdmin, undefined);
    await apiClient(`http://127.0.0.1:${platform.ports.http}`, ADMIN);
  } finally {
    await platform.stop();
  }
});

test('regression: kill -TERM of npm start leaves the node server running', async () => {
  const dataDir = tempDir();
  // A web build must exist for `prestart` to be quick; it is built by `npm ci` (prepare).
  const npm = spawn('npm', ['start', '--', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0', '--store', 'memory'], {
    env: { ...process.env, CONTINUUM_ADMIN_EMAIL: ADMIN.email, CONTINUUM_ADMIN_PASSWORD: ADMIN.password },
    stdio: 'ignore',
  });
  const lockFile = join(dataDir, LOCK_FILE);
  const serverPid = await eventually(async () => (existsSync(join(dataDir, 'ports.json')) ? Number.parseInt(readFileSync(lockFile, 'utf8'), 10) : undefined), 120_000, 'the server to start');
  assert.notEqual(serverPid, npm.pid);
  npm.kill('SIGTERM');
  await eventually(async () => (isAlive(serverPid) ? undefined : true), 30_000, 'the node server to exit');
  assert.equal(existsSync(lockFile), false, 'it shut down cleanly (lock released)');
});

test('the server shuts down when its wrapper shell is killed (no orphan)', async () => {
  const dataDir = tempDir();
  const args = ['bin/continuum.mjs', 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0', '--store', 'memory'];
  const script = join(dataDir, 'wrapper.sh');
  // `; true` keeps sh from exec-ing node, as a wrapper script would.
  writeFileSync(script, `"${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')}; true\n`);
  const shell = spawn('sh', [script], { env: { ...process.env, CONTINUUM_ADMIN_EMAIL: ADMIN.email, CONTINUUM_ADMIN_PASSWORD: ADMIN.password }, stdio: 'ignore' });
  const lockFile = join(dataDir, LOCK_FILE);
  const serverPid = await eventually(async () => (existsSync(join(dataDir, 'ports.json')) ? Number.parseInt(readFileSync(lockFile, 'utf8'), 10) : undefined), 60_000, 'the server to start');
  shell.kill('SIGKILL');
  await eventually(async () => (isAlive(serverPid) ? undefined : true), 30_000, 'the orphaned server to exit');
  assert.equal(existsSync(lockFile), false);
});
