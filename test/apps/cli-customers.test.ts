/** `continuum customer …` and `continuum group …` against a real platform. */
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

test('customer create, assign by device name, get, list; group create, add, members, command', async () => {
  await tp.api.createDevice('cli-meter');
  const created = await runCli(['customer', 'create', 'CLI household', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const { id } = JSON.parse(created.stdout) as { id: string };
  const assign = await runCli(['customer', 'assign', id, 'cli-meter'], env);
  assert.equal(assign.code, 0, assign.stderr);
  const got = await runCli(['customer', 'get', id], env);
  assert.match(got.stdout, /devices: cli-meter/);
  assert.match((await runCli(['customer', 'list'], env)).stdout, /CLI household/);

  const group = await runCli(['group', 'create', 'cli-group', '--json'], env);
  assert.equal(group.code, 0, group.stderr);
  const gid = (JSON.parse(group.stdout) as { id: string }).id;
  assert.equal((await runCli(['group', 'add', gid, 'cli-meter'], env)).code, 0);
  assert.match((await runCli(['group', 'members', gid], env)).stdout, /cli-meter/);
  const cmd = await runCli(['group', 'command', gid, 'reboot', '--persistent'], env);
  assert.equal(cmd.code, 0, cmd.stderr);
  assert.match(cmd.stdout, /QUEUED/);
  // Deleting a customer unassigns its devices.
  assert.equal((await runCli(['customer', 'delete', id], env)).code, 0);
  assert.equal((await runCli(['customer', 'get', id], env)).code !== 0, true);
});
