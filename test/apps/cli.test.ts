import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { splitCsv } from '../../src/apps/cli/import.js';
import { ADMIN, csvWithThreeBadRows, startTestApi, type TestApi } from '../api/helpers.js';

const run = runCli;

describe('continuum CLI', () => {
  let api: TestApi;
  let dir: string;
  let conn: string[];

  before(async () => {
    api = await startTestApi();
    dir = mkdtempSync(join(tmpdir(), 'continuum-cli-'));
    const user = (await api.store.findUserByEmail(ADMIN.email))!;
    const { key } = await api.auth.createApiKey(user.id, 'cli-test');
    conn = ['--url', api.url, '--api-key', key];
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports 10,000 rows in chunks with progress and reports the 3 bad lines', async () => {
    const { csv, badLines } = csvWithThreeBadRows();
    const file = join(dir, 'devices.csv');
    writeFileSync(file, csv);
    const res = await run(['device', 'import', file, ...conn]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /\[#{30}\] 10000\/10000 rows/);
    assert.match(res.stderr, /\[###-{27}\] 1000\/10000 rows/);
    assert.match(res.stdout, /created 9997 of 10000 devices, 3 rows rejected/);
    for (const line of badLines) assert.match(res.stdout, new RegExp(`devices\\.csv:${line}[ :]`));
    assert.equal((await api.call('GET', '/api/devices?limit=1')).body.total, 9997);
  });

  it('maps line numbers across chunks, with quoted multi-line fields, in --json', async () => {
    const file = join(dir, 'small.csv');
    writeFileSync(file, 'name,label\r\nm-1,"two\r\nlines"\r\n\r\nm-2,x\r\n,empty name\r\nm-3,"a\nb\nc"\r\nm-1,dup\r\n');
    const res = await run(['device', 'import', file, '--chunk', '2', '--json', ...conn]);
    assert.equal(res.code, 2, res.stderr);
    const report = JSON.parse(res.stdout) as { created: number; errors: { row: number; name?: string }[] };
    assert.equal(report.created, 3);
    assert.deepEqual(
      report.errors.map((e) => [e.row, e.name]),
      [
        [6, undefined],
        [10, 'm-1'],
      ],
    );
  });

  it('creates and lists devices, and reads telemetry by device name', async () => {
    const created = await run(['device', 'create', 'cli device', '--label', 'from cli', '--gateway', '--json', ...conn]);
    assert.equal(created.code, 0, created.stderr);
    const device = JSON.parse(created.stdout) as { id: string; name: string; gateway: boolean; accessToken: string };
    assert.equal(device.name, 'cli device');
    assert.equal(device.gateway, true);
    assert.match(device.accessToken, /^[0-9A-Za-z]{20}$/);

    const human = await run(['device', 'create', 'plain', ...conn]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /created device "plain" id [0-9a-f-]{36}\naccess token: [0-9A-Za-z]{20}\n/);

    const listed = await run(['device', 'list', '--search', 'cli dev', '--json', ...conn]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { items: { name: string }[] }).items.map((d) => d.name),
      ['cli device'],
    );
    const table = await run(['device', 'list', '--search', 'cli dev', ...conn]);
    assert.match(table.stdout, /^ID\s+NAME\s+LABEL/);
    assert.match(table.stdout, /1 of 1 devices/);

    await api.store.appendTelemetry([
      { deviceId: device.id, key: 'temp', ts: 1000, value: 21 },
      { deviceId: device.id, key: 'temp', ts: 2000, value: 22 },
      { deviceId: device.id, key: 'hum', ts: 2000, value: 40 },
    ]);
    const tel = await run(['telemetry', 'get', 'cli device', '--keys', 'temp', '--from', '0', '--to', '5000', '--json', ...conn]);
    assert.equal(tel.code, 0, tel.stderr);
    assert.deepEqual(JSON.parse(tel.stdout), { temp: [{ ts: 2000, value: 22 }, { ts: 1000, value: 21 }] });
    const agg = await run(['telemetry', 'get', device.id, '--keys', 'temp', '--from', '0', '--to', '3999', '--interval', '4000', '--agg', 'sum', '--json', ...conn]);
    assert.deepEqual(JSON.parse(agg.stdout), { temp: [{ ts: 0, value: 43 }] });
    const text = await run(['telemetry', 'get', 'cli device', '--to', '5000', ...conn]);
    assert.match(text.stdout, /hum\s+1970-01-01T00:00:02.000Z\s+40/);
  });

  it('logs in with email and password from the environment', async () => {
    const res = await run(['device', 'list', '--limit', '1', '--json'], {
      CONTINUUM_URL: api.url,
      CONTINUUM_EMAIL: ADMIN.email,
      CONTINUUM_PASSWORD: ADMIN.password,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { items: unknown[] }).items.length, 1);
  });

  it('prints help and fails with one line on stderr', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: continuum <command>/);
    assert.match((await run(['device', 'import', '--help'])).stdout, /certificateFingerprint/);

    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['device', 'list', '--url', api.url], /no credentials/],
      [['device', 'list', '--url', 'http://127.0.0.1:9', '--api-key', 'x'], /cannot reach/],
      [['device', 'list', ...conn.slice(0, 2), '--api-key', 'wrong'], /UNAUTHORIZED/],
      [['device', 'create', ...conn], /needs a NAME/],
      [['device', 'list', '--bogus', ...conn], /bogus/],
      
      [['device', 'import', join(dir, 'missing.csv'), ...conn], /cannot read/],
    ];
    for (const [args, pattern] of cases) {
      const res = await run(args);
      assert.equal(res.code, 1, args.join(' '));
      assert.match(res.stderr, pattern);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.equal(res.stdout, '');
    }
  });
});

describe('splitCsv', () => {
  it('keeps chunks byte-exact and computes line offsets', () => {
    const { chunks, total } = splitCsv('h1,h2\na,1\n\nb,"x\ny"\nc,3\n', 2);
    assert.equal(total, 3);
    assert.deepEqual(chunks, [
      { text: 'h1,h2\na,1\n\nb,"x\ny"\n', rows: 2, lineOffset: 0 },
      { text: 'h1,h2\nc,3\n', rows: 1, lineOffset: 4 },
    ]);
  });
});
