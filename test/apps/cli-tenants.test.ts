/** `continuum tenant …`, `continuum quota …` and `continuum role …` against a real platform. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let env: Record<string, string>;
before(async () => {
  tp = await startTestPlatform();
  env = { CONTINUUM_URL: tp.baseUrl, CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password };
});
after(async () => {
  await tp.stop();
});

test('tenant create, list, get, user-add, suspend, resume; quota set and get; delete', async () => {
  const created = await runCli(['tenant', 'create', 'cli-tenant', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const { id } = JSON.parse(created.stdout) as { id: string };
  assert.match((await runCli(['tenant', 'list'], env)).stdout, /cli-tenant\s+active/);
  assert.match((await runCli(['tenant', 'get', id], env)).stdout, /cli-tenant/);

  const admin = { email: 'boss@cli-tenant.test', password: 'cli-tenant-admin-1' };
  const added = await runCli(['tenant', 'user-add', 'cli-tenant', admin.email, '--new-password', admin.password], env);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /tenant-admin/);
  const adminEnv = { ...env, CONTINUUM_EMAIL: admin.email, CONTINUUM_PASSWORD: admin.password };

  const set = await runCli(['quota', 'set', 'cli-tenant', '--max-devices', '3', '--max-rules', 'unlimited', '--json'], env);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual((JSON.parse(set.stdout) as { limits: Record<string, unknown> }).limits.maxDevices, 3);
  // The tenant admin reads its own quotas, and may not set them.
  const own = await runCli(['quota', 'get'], adminEnv);
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, /max-devices\s+3\s+0/);
  assert.notEqual((await runCli(['quota', 'set', id, '--max-devices', '9'], adminEnv)).code, 0);
  assert.match((await runCli(['quota', 'get', id], env)).stdout, /max-devices\s+3/);

  assert.match((await runCli(['tenant', 'suspend', id], env)).stdout, /suspended/);
  assert.notEqual((await runCli(['quota', 'get'], adminEnv)).code, 0, 'a suspended tenant cannot sign in');
  assert.match((await runCli(['tenant', 'resume', 'cli-tenant'], env)).stdout, /resumed tenant cli-tenant .*active/);
  assert.equal((await runCli(['quota', 'get'], adminEnv)).code, 0);

  assert.equal((await runCli(['tenant', 'delete', id], env)).code, 0);
  assert.notEqual((await runCli(['tenant', 'get', id], env)).code, 0);
});

test('role create, list, delete; a tenant admin cannot manage tenants', async () => {
  const created = await runCli(['role', 'create', 'auditor', '--permissions', 'devices:read,audit:read', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const role = JSON.parse(created.stdout) as { id: string; role: string; permissions: string[] };
  assert.deepEqual([...role.permissions].sort(), ['audit:read', 'devices:read']);
  assert.match((await runCli(['role', 'list'], env)).stdout, new RegExp(`${role.role}\\s+auditor\\s+`));
  assert.equal((await runCli(['role', 'delete', role.role], env)).code, 0);
  assert.match((await runCli(['role', 'list'], env)).stdout, /no custom roles/);
  const bad = await runCli(['role', 'create', 'broken', '--permissions', 'nothing:fly'], env);
  assert.notEqual(bad.code, 0);

  const user = { email: 'ta@default.test', password: 'tenant-admin-pass-1' };
  assert.equal((await tp.api.request('POST', '/api/users', { ...user, role: 'tenant-admin' })).status, 201);
  const denied = await runCli(['tenant', 'list'], { ...env, CONTINUUM_EMAIL: user.email, CONTINUUM_PASSWORD: user.password });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /tenants:read/);
});
