/** `continuum alarm …` and `continuum command …` against a platform running in this process. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

const run = runCli;

describe('continuum alarm / command', () => {
  let tp: TestPlatform;
  let conn: string[];
  before(async () => {
    tp = await startTestPlatform({ store: 'memory' });
    conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
  });
  after(() => tp.stop());

  it('lists, acknowledges and clears alarms', async () => {
    const device = await tp.api.createDevice('cli-boiler');
    const d = await tp.platform.registry.requireDevice(device.id);
    const alarm = await tp.platform.alarms.raise({ tenantId: d.tenantId, deviceId: d.id, type: 'Overheat', severity: 'critical' });
    const listed = await run(['alarm', 'list', '--device', 'cli-boiler', '--status', 'active', '--json', ...conn]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { items: { id: string }[] }).items.map((a) => a.id), [alarm.id]);
    const text = await run(['alarm', 'list', ...conn]);
    assert.match(text.stdout, /Overheat\s+critical\s+active/);
    const ack = await run(['alarm', 'ack', alarm.id, ...conn]);
    assert.equal(ack.stdout, `alarm ${alarm.id} (Overheat) is acknowledged\n`);
    const clear = await run(['alarm', 'clear', alarm.id, ...conn]);
    assert.equal(clear.stdout, `alarm ${alarm.id} (Overheat) is cleared\n`);
    const missing = await run(['alarm', 'ack', 'nope', ...conn]);
    assert.equal(missing.code, 3); // not found: its own exit code
    assert.match(missing.stderr, /ALARM_NOT_FOUND/);
  });

  it('sends, reads and lists commands; a failed command exits 1', async () => {
    await tp.api.createDevice('cli-valve');
    const queued = await run(['command', 'send', 'cli-valve', 'open', '--params', '{"pct":50}', '--persistent', '--json', ...conn]);
    assert.equal(queued.code, 0, queued.stderr);
    const command = JSON.parse(queued.stdout) as { id: string; status: string; params: unknown };
    assert.equal(command.status, 'QUEUED');
    assert.deepEqual(command.params, { pct: 50 });
    const got = await run(['command', 'get', command.id, ...conn]);
    assert.equal(got.stdout, `command ${command.id} open: QUEUED\n`);
    const list = await run(['command', 'list', '--device', 'cli-valve', '--status', 'QUEUED', ...conn]);
    assert.match(list.stdout, new RegExp(`${command.id}\\s+open\\s+QUEUED`));
    const offline = await run(['command', 'send', 'cli-valve', 'now', ...conn]);
    assert.equal(offline.code, 1);
    assert.match(offline.stdout, /FAILED \(device is not connected\)/);
    const bad = await run(['command', 'send', 'cli-valve', 'x', '--params', '{nope', ...conn]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--params must be JSON/);
    const usage = await run(['command']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /continuum command send DEVICE METHOD/);
  });
});
