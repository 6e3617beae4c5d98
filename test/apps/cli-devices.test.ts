/** `continuum device get|update|rename|delete` and `continuum profile …` against a real API. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli as run } from '../support/cli.js';
import { parseKeySpec } from '../../src/apps/cli/profile.js';
import { ADMIN, startTestApi, type TestApi } from '../api/helpers.js';

describe('continuum device and profile commands', () => {
  let api: TestApi;
  let conn: string[];
  let dir: string;

  before(async () => {
    api = await startTestApi();
    dir = mkdtempSync(join(tmpdir(), 'continuum-cli-devices-'));
    const user = (await api.store.findUserByEmail(ADMIN.email))!;
    conn = ['--url', api.url, '--api-key', (await api.auth.createApiKey(user.id, 'cli-devices')).key];
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, gets (by name and id), renames, moves and deletes a device: the contract', async () => {
    const created = await run(['device', 'create', 'boiler 1', '--label', 'basement', ...conn]);
    assert.equal(created.code, 0, created.stderr);

    const got = await run(['device', 'get', 'boiler 1', '--json', ...conn]);
    assert.equal(got.code, 0, got.stderr);
    const device = JSON.parse(got.stdout) as { id: string; name: string; label: string; profileId: string; online: boolean };
    assert.equal(device.name, 'boiler 1');
    assert.equal(device.label, 'basement');
    assert.equal(device.online, false);
    const byId = await run(['device', 'get', device.id, '--json', ...conn]);
    assert.deepEqual(JSON.parse(byId.stdout), device);

    const human = await run(['device', 'get', 'boiler 1', ...conn]);
    assert.match(human.stdout, /^id\s+[0-9a-f-]{36}\nname\s+boiler 1\nlabel\s+basement\nprofile\s+default \(/);
    assert.match(human.stdout, /status\s+offline/);

    const renamed = await run(['device', 'rename', 'boiler 1', 'boiler A', ...conn]);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal(renamed.stdout, `renamed device "boiler 1" to "boiler A" (id ${device.id})\n`);
    assert.equal((await run(['device', 'get', 'boiler 1', ...conn])).code, 3);

    assert.equal((await run(['profile', 'create', 'boilers', ...conn])).code, 0);
    const moved = await run(['device', 'update', device.id, '--profile', 'boilers', '--label', '', '--json', ...conn]);
    assert.equal(moved.code, 0, moved.stderr);
    const movedJson = JSON.parse(moved.stdout) as { label: string | null; profileId: string };
    assert.equal(movedJson.label, null);
    assert.notEqual(movedJson.profileId, device.profileId);

    const deleted = await run(['device', 'delete', 'boiler A', ...conn]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted device "boiler A" (id ${device.id})\n`);
    assert.equal((await api.call('GET', `/api/devices/${device.id}`)).status, 404);

    const again = await run(['device', 'delete', 'boiler A', ...conn]);
    assert.equal(again.code, 3, 'no such device: exit code 3');
    assert.equal(again.stderr, 'continuum: no device with id or name "boiler A"\n');
    assert.equal(again.stdout, '');
  });

  it('finds a device by exact name when a search for it matches more than one page', async () => {
    const rows = Array.from({ length: 1100 }, (_, i) => `x-${String(i).padStart(4, '0')}`);
    await api.call('POST', '/api/devices/import', { csv: `name\n${rows.join('\n')}\nx\n` });
    const res = await run(['device', 'get', 'x', '--json', ...conn]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { name: string }).name, 'x');
  });

  it('lists, creates, shows, updates and deletes profiles', async () => {
    const list0 = await run(['profile', 'list', '--json', ...conn]);
    assert.equal(list0.code, 0, list0.stderr);
    assert.ok((JSON.parse(list0.stdout) as { items: { name: string }[] }).items.some((p) => p.name === 'default'));

    const created = await run(['profile', 'create', 'meters', '--codec', 'senml', '--key', 'energy:number:kWh', '--key', 'state:string', '--json', ...conn]);
    assert.equal(created.code, 0, created.stderr);
    const profile = JSON.parse(created.stdout) as { id: string; codec: string; telemetryKeys: unknown[] };
    assert.equal(profile.codec, 'senml');
    assert.deepEqual(profile.telemetryKeys, [
      { key: 'energy', type: 'number', unit: 'kWh' },
      { key: 'state', type: 'string' },
    ]);

    const table = await run(['profile', 'list', ...conn]);
    assert.match(table.stdout, /^ID\s+NAME\s+CODEC\s+KEYS\s+CONTROLS\n/);
    assert.match(table.stdout, /meters\s+senml\s+2\s+0/);

    const shown = await run(['profile', 'get', 'meters', ...conn]);
    assert.match(shown.stdout, /telemetry keys\s+energy \(number, kWh\), state \(string\)/);

    const body = join(dir, 'controls.json');
    writeFileSync(body, JSON.stringify({ controls: [{ label: 'Reset', kind: 'button', method: 'reset' }] }));
    const updated = await run(['profile', 'update', profile.id, '--name', 'power meters', '--file', body, '--json', ...conn]);
    assert.equal(updated.code, 0, updated.stderr);
    const u = JSON.parse(updated.stdout) as { name: string; controls: { label: string }[]; telemetryKeys: unknown[] };
    assert.equal(u.name, 'power meters');
    assert.deepEqual(u.controls.map((c) => c.label), ['Reset']);
    assert.equal(u.telemetryKeys.length, 2, 'keys not given stay');

    // In use: refused with the reason; the default profile is never deleted.
    await run(['device', 'create', 'meter-1', '--profile', 'power meters', ...conn]);
    const inUse = await run(['profile', 'delete', 'power meters', ...conn]);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /used by 1 device\(s\).*\(CONFLICT\)/);
    const dflt = await run(['profile', 'delete', 'default', ...conn]);
    assert.equal(dflt.code, 1);
    assert.match(dflt.stderr, /default profile cannot be deleted/);

    assert.equal((await run(['device', 'delete', 'meter-1', ...conn])).code, 0);
    const deleted = await run(['profile', 'delete', 'power meters', ...conn]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await run(['profile', 'get', profile.id, ...conn])).code, 3);
    assert.equal((await api.call('GET', `/api/profiles/${profile.id}`)).status, 404);
  });

  it('sets, shows and clears how long a profile keeps telemetry (--retention-days)', async () => {
    const created = await run(['profile', 'create', 'short-lived', '--retention-days', '30', '--json', ...conn]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as { retentionDays: number | null }).retentionDays, 30);
    assert.match((await run(['profile', 'get', 'short-lived', ...conn])).stdout, /telemetry kept\s+30 days/);
    const cleared = await run(['profile', 'update', 'short-lived', '--retention-days', 'never', '--json', ...conn]);
    assert.equal((JSON.parse(cleared.stdout) as { retentionDays: number | null }).retentionDays, null);
    assert.match((await run(['profile', 'get', 'short-lived', ...conn])).stdout, /telemetry kept\s+for ever/);
    assert.equal((await run(['profile', 'delete', 'short-lived', ...conn])).code, 0);
  });

  it('fails with one line on stderr and a usage exit code', async () => {
    const cases: [string[], RegExp, number][] = [
      [['device', 'get', ...conn], /device get needs a DEVICE/, 1],
      [['device', 'rename', 'only-one', ...conn], /needs DEVICE and NEW_NAME/, 1],
      [['device', 'update', 'x', ...conn], /needs --name, --label or --profile/, 1],
      [['device', 'create', 'y', '--profile', 'no-such-profile', ...conn], /no profile with id or name "no-such-profile"/, 3],
      [['profile', 'create', 'bad', '--key', 'temp:float', ...conn], /type "float" is not one of number, boolean, string, json/, 1],
      [['profile', 'create', 'bad', '--codec', 'xml', ...conn], /unknown codec "xml"/, 1],
      [['profile', 'update', 'default', ...conn], /needs --name, --key, --retention-days or --file/, 1],
      [['profile', 'create', 'bad', '--retention-days', 'never', ...conn], /--retention-days "never": expected a whole number of days/, 1],
      [['profile', 'frob', ...conn], /unknown profile command "frob"/, 1],
      [['telemetry', 'get', 'no-such-device', ...conn], /no device with id or name "no-such-device"/, 3],
    ];
    for (const [args, pattern, code] of cases) {
      const res = await run(args);
      assert.equal(res.code, code, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, pattern);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.equal(res.stdout, '');
    }
  });
});

describe('parseKeySpec', () => {
  it('keeps colons in the unit', () => {
    assert.deepEqual(parseKeySpec('ratio:number:m:s'), { key: 'ratio', type: 'number', unit: 'm:s' });
  });
});
