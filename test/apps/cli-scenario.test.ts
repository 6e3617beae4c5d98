/** `continuum scenario …` and `continuum user create` as a user runs them, against a platform in this process. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { ADMIN, apiClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

const run = runCli;

describe('continuum scenario / user', () => {
  let tp: TestPlatform;
  let conn: string[];
  before(async () => {
    tp = await startTestPlatform({ store: 'memory' });
    conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
  });
  after(() => tp.stop());

  it('lists the packs', async () => {
    const list = await run(['scenario', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((p) => p.name);
    assert.deepEqual(names, ['smart-farm', 'factory', 'fleet', 'patient-monitoring', 'vending', 'smart-meters', 'smart-home']);
  });

  it('installs a pack with its tokens, twice without creating anything twice; an unknown pack lists the known ones', async () => {
    const first = await run(['scenario', 'install', 'vending', '--devices', '2', '--json', ...conn]);
    assert.equal(first.code, 0, first.stderr);
    const body = JSON.parse(first.stdout) as { devices: { name: string; token: string }[]; rules: { created: boolean }[] };
    assert.deepEqual(body.devices.map((d) => d.name), ['vend-1', 'vend-2']);
    assert.ok(body.rules.every((r) => r.created));
    const again = await run(['scenario', 'install', 'vending', '--devices', '2', ...conn]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 rule\(s\) created, 3 kept/);
    // The same devices; their tokens are new (the platform keeps only hashes, nothing to read back).
    assert.ok(again.stdout.includes('vend-1') && !again.stdout.includes(body.devices[0]?.token ?? '?'), 'same devices, new tokens');
    const unknown = await run(['scenario', 'install', 'brewery', ...conn]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown scenario "brewery" \(known: smart-farm, factory/);
  });

  it('creates an operator who can sign in', async () => {
    const created = await run(['user', 'create', 'night-shift@test.local', '--role', 'user', ...conn], { CONTINUUM_NEW_PASSWORD: 'night-shift-password' });
    assert.equal(created.code, 0, created.stderr);
    // The legacy role name `user` is accepted and stored by its issue-15 name, operator.
    assert.match(created.stdout, /^created operator night-shift@test\.local/);
    const operator = await apiClient(tp.baseUrl, { email: 'night-shift@test.local', password: 'night-shift-password' });
    assert.equal((await operator.request<{ role: string }>('GET', '/api/auth/me')).body.role, 'operator');
    const noPassword = await run(['user', 'create', 'x@test.local', ...conn]);
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /needs --new-password/);
  });
});
