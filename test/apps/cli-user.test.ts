/**
 * `continuum user list|create|update|delete` against a running platform, and
 * `continuum user reset-password` on the data dir of a stopped one (the recovery path for a
 * locked-out admin, issue 12).
 */
import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, tempDir } from '../support/platform.js';

const LOW_COST = { CONTINUUM_AUTH_PASSWORD_HASH_COST: '1024' };

describe('continuum user', () => {
  it('lists, creates, updates and deletes users', async () => {
    const tp = await startTestPlatform({ store: 'memory' });
    try {
      const conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
      const created = await runCli(['user', 'create', 'night@test.local', ...conn], { CONTINUUM_NEW_PASSWORD: 'night-shift-password' });
      assert.equal(created.code, 0, created.stderr);
      const weak = await runCli(['user', 'create', 'weak@test.local', '--new-password', 'short', ...conn]);
      assert.equal(weak.code, 1);
      assert.match(weak.stderr, /at least 12 characters/);
      const updated = await runCli(['user', 'update', 'night@test.local', '--role', 'admin', '--disable', ...conn]);
      assert.equal(updated.code, 0, updated.stderr);
      assert.match(updated.stdout, /^updated tenant-admin night@test\.local .* disabled/);
      const list = await runCli(['user', 'list', '--json', ...conn]);
      const users = JSON.parse(list.stdout) as { email: string; role: string; disabled: boolean }[];
      assert.deepEqual(users.map((u) => [u.email, u.role, u.disabled]), [[ADMIN.email, 'sysadmin', false], ['night@test.local', 'tenant-admin', true]]);
      const table = await runCli(['user', 'list', ...conn]);
      assert.match(table.stdout, /^EMAIL\s+ROLE\s+STATE/);
      const lastAdmin = await runCli(['user', 'delete', ADMIN.email, ...conn]);
      assert.equal(lastAdmin.code, 1);
      assert.match(lastAdmin.stderr, /last enabled admin/);
      const deleted = await runCli(['user', 'delete', 'night@test.local', ...conn]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal((JSON.parse((await runCli(['user', 'list', '--json', ...conn])).stdout) as unknown[]).length, 1);
    } finally {
      await tp.stop();
    }
  });

  it('reset-password on a stopped platform\'s data dir: the new password signs in, old sessions end, the data dir is tightened', async () => {
    const dataDir = tempDir();
    const first = await startTestPlatform({ dataDir });
    const login = (baseUrl: string, password: string) =>
      fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password }) });
    const { token: oldToken } = (await (await login(first.baseUrl, ADMIN.password)).json()) as { token: string };
    const whileRunning = await runCli(['user', 'reset-password', ADMIN.email, '--data-dir', dataDir, '--password', 'chosen-password-1'], LOW_COST);
    assert.equal(whileRunning.code, 1);
    assert.match(whileRunning.stderr, /in use by another Continuum server .*works on a stopped server/);
    await first.stop();
    chmodSync(dataDir, 0o755); // as an older version left it

    const generated = await runCli(['user', 'reset-password', ADMIN.email, '--data-dir', dataDir], LOW_COST);
    assert.equal(generated.code, 0, generated.stderr);
    const password = /new password: (\S+)$/m.exec(generated.stdout)?.[1] ?? '';
    assert.ok(password.length >= 12, generated.stdout);
    assert.match(generated.stderr, /permissions tightened/);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);

    const chosen = await runCli(['user', 'reset-password', ADMIN.email, '--data-dir', dataDir, '--password', 'chosen-password-1', '--json'], LOW_COST);
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.deepEqual(JSON.parse(chosen.stdout), { email: ADMIN.email, role: 'sysadmin' }, 'a given password is not printed');
    const refused = await runCli(['user', 'reset-password', ADMIN.email, '--data-dir', dataDir, '--password', 'short'], LOW_COST);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /at least 12/);
    const nobody = await runCli(['user', 'reset-password', 'nobody@test.local', '--data-dir', dataDir, '--password', 'chosen-password-1'], LOW_COST);
    assert.match(nobody.stderr, /no user nobody@test\.local/);
    const noDb = await runCli(['user', 'reset-password', ADMIN.email, '--data-dir', join(dataDir, 'missing')], LOW_COST);
    assert.match(noDb.stderr, /no database in/);

    // Back to the password the test platform signs in with (startTestPlatform logs in with it).
    assert.equal((await runCli(['user', 'reset-password', ADMIN.email, '--data-dir', dataDir, '--password', ADMIN.password], LOW_COST)).code, 0);
    const second = await startTestPlatform({ dataDir });
    try {
      assert.equal((await login(second.baseUrl, 'chosen-password-1')).status, 401);
      assert.equal((await login(second.baseUrl, ADMIN.password)).status, 200);
      const res = await fetch(`${second.baseUrl}/api/devices`, { headers: { authorization: `Bearer ${oldToken}` } });
      assert.equal(res.status, 401, 'the token from before the reset is revoked');
    } finally {
      await second.stop();
    }
  });
});
