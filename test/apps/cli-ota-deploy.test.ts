/**
 * `continuum ota deploy | deployments | deployment` against a platform in this process: a
 * rollout to devices named on the command line in waves with an abort threshold, listed, shown
 * per wave, paused, resumed and canceled; the flags that go together are checked.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

describe('continuum ota deploy / deployments / deployment', () => {
  let tp: TestPlatform;
  let conn: string[];
  let packageId: string;
  before(async () => {
    tp = await startTestPlatform({ store: 'memory' });
    conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
    for (let i = 0; i < 4; i++) await tp.api.createDevice(`cli-d-${i}`);
    const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const { token } = (await login.json()) as { token: string };
    const res = await fetch(`${tp.baseUrl}/api/ota/packages?title=cli-fw&version=2`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(randomBytes(100)) });
    packageId = ((await res.json()) as { id: string }).id;
  });
  after(() => tp.stop());

  it('deploys to devices by name in waves, lists, shows per wave, pauses, resumes, cancels', async () => {
    const started = await runCli(['ota', 'deploy', '--package', packageId, '--devices', 'cli-d-0,cli-d-1,cli-d-2,cli-d-3', '--waves', '25,100', '--abort-percent', '20', '--abort-after', '2', '--json', ...conn]);
    assert.equal(started.code, 0, started.stderr);
    const { id } = JSON.parse(started.stdout) as { id: string };
    const listed = await runCli(['ota', 'deployments', ...conn]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+running\\s+2\\s+1/2\\s+4\\s+3\\s+1\\s+0\\s+0\\s+0`));
    const shown = await runCli(['ota', 'deployment', id, ...conn]);
    assert.match(shown.stdout, /running, version 2, wave 1 of 2/);
    assert.match(shown.stdout, /^1\s+1\s+0\s+1\s+0\s+0\s+0$/m);
    assert.match(shown.stdout, /^2\s+3\s+3\s+0\s+0\s+0\s+0$/m);
    assert.match((await runCli(['ota', 'deployment', id, '--pause', ...conn])).stdout, /: paused/);
    assert.match((await runCli(['ota', 'deployment', id, '--resume', ...conn])).stdout, /: running/);
    assert.match((await runCli(['ota', 'deployment', id, '--devices', ...conn])).stdout, /notified/);
    assert.match((await runCli(['ota', 'deployment', id, '--cancel', ...conn])).stdout, /: canceled/);
    const again = await runCli(['ota', 'deployment', id, '--cancel', ...conn]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /DEPLOYMENT_STATE/);
  });

  it('says what is missing or does not go together', async () => {
    assert.match((await runCli(['ota', 'deploy', '--devices', 'cli-d-0', ...conn])).stderr, /--package/);
    assert.match((await runCli(['ota', 'deploy', '--package', packageId, ...conn])).stderr, /--profile or --devices/);
    assert.match((await runCli(['ota', 'deploy', '--package', packageId, '--devices', 'cli-d-0', '--abort-percent', '5', ...conn])).stderr, /go together/);
    const missing = await runCli(['ota', 'deploy', '--package', packageId, '--devices', 'no-such', ...conn]);
    assert.equal(missing.code, 3);
  });
});
