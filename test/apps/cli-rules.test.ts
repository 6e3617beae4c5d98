/** `continuum rule …` against a platform running in this process. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const run = runCli;

describe('continuum rule', () => {
  let tp: TestPlatform;
  let conn: string[];
  const dir = tempDir();
  before(async () => {
    tp = await startTestPlatform({ store: 'memory' });
    conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
  });
  after(() => tp.stop());

  it('creates from a file with --device by name, lists, backtests and deletes', async () => {
    const device = await tp.api.createDevice('cli-meter');
    const t0 = Date.UTC(2024, 0, 1);
    const rows = Array.from({ length: 30 }, (_, i) => ({ deviceId: device.id, key: 'batteryLevel', ts: t0 + i * 60_000, value: 30 - i }));
    await tp.platform.store.appendTelemetry(rows);
    const file = join(dir, 'rule.json');
    writeFileSync(file, JSON.stringify({ name: 'Low battery', trigger: 'telemetry', condition: 'batteryLevel < 10', actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'major' }] }));
    const created = await run(['rule', 'create', '--file', file, '--device', 'cli-meter', ...conn]);
    assert.equal(created.code, 0, created.stderr);
    const id = /^rule (\S+) \(Low battery\) created$/m.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);

    const list = await run(['rule', 'list', ...conn]);
    assert.match(list.stdout, new RegExp(`${id}\\s+Low battery\\s+telemetry\\s+device ${device.id}\\s+yes\\s+batteryLevel < 10`));

    const bt = await run(['rule', 'backtest', id, '--from', new Date(t0).toISOString(), '--to', String(t0 + 3_600_000), ...conn]);
    assert.equal(bt.code, 0, bt.stderr);
    assert.match(bt.stdout, /2024-01-01T00:21:00.000Z\s+cli-meter\s+raise\s+alarm/);
    assert.match(bt.stdout, /1 firing\(s\); 30 evaluation\(s\) of 30 message\(s\) on 1 device\(s\)/);
    const json = await run(['rule', 'backtest', id, '--from', String(t0), '--json', ...conn]);
    assert.equal((JSON.parse(json.stdout) as { fired: unknown[] }).fired.length, 1);
    const { tenantId } = await tp.platform.registry.requireDevice(device.id);
    assert.equal((await tp.platform.alarms.list(tenantId, { deviceId: device.id })).total, 0, 'the backtest raised nothing');

    assert.equal((await run(['rule', 'delete', id, ...conn])).stdout, `rule ${id} deleted\n`);
    assert.match((await run(['rule', 'list', ...conn])).stdout, /no rules/);
  });

  it('reports a malformed condition with line and column, exit code 1', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', trigger: 'telemetry', condition: 'batteryLevel <', actions: [] }));
    const res = await run(['rule', 'validate', '--file', file, ...conn]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /condition: unexpected end of expression \(line 1, column 15\) \(INVALID_RULE\)/);
  });
});
