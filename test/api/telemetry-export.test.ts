/**
 * GET /api/devices/{id}/telemetry/export?format=csv over a SQLite store: the header, rows key by
 * key oldest first, values as text with CSV quoting and formula neutralising, inclusive range
 * ends, more than the 100k cap of the JSON reads, tenants kept apart, and a client that goes
 * away stops the store reads (pages are pulled by the socket, not pushed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { Store } from '../../src/ports.js';
import { EXPORT_PAGE } from '../../src/services/telemetry-export.js';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestApi, type TestApi } from './helpers.js';

const OTHER_TENANT = '00000000-0000-4000-8000-0000000000fe';
const T0 = Date.UTC(2023, 5, 1);
const BIG = 400_000;

describe('telemetry CSV export', () => {
  let api: TestApi;
  let dir: string;
  let deviceId: string;
  let bigId: string;
  let foreignId: string;
  let otherToken: string;
  let operatorToken: string;
  const reads = { count: 0 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'export-api-'));
    const sqlite = createSqliteStore({ file: join(dir, 'c.db'), synchronous: 'NORMAL' });
    // Counts the store's raw reads, to see that a client gone mid-export stops them.
    const store = new Proxy(sqlite, {
      get(target, prop, receiver) {
        if (prop === 'queryRaw') return (...args: Parameters<Store['queryRaw']>) => (reads.count++, target.queryRaw(...args));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    api = await startTestApi({ store });
    deviceId = (await api.call('POST', '/api/devices', { name: 'meter' })).body.id;
    bigId = (await api.call('POST', '/api/devices', { name: 'big' })).body.id;
    await api.store.appendTelemetry([
      { deviceId, key: 'temp', ts: T0, value: 21.5 },
      { deviceId, key: 'temp', ts: T0 + 1000, value: -3 },
      { deviceId, key: 'temp', ts: T0 + 2000, value: 0 },
      { deviceId, key: 'note', ts: T0, value: 'a, "quoted"\nline' },
      { deviceId, key: 'note', ts: T0 + 1000, value: '=HYPERLINK("http://evil")' },
      { deviceId, key: 'note', ts: T0 + 2000, value: '@SUM(1)' },
      { deviceId, key: 'on', ts: T0, value: true },
      { deviceId, key: 'cfg', ts: T0, value: { a: [1, 2] } },
      { deviceId, key: '+key', ts: T0, value: 1 },
    ]);
    for (let start = 0; start < BIG; start += 50_000) {
      const rows = [];
      for (let i = start; i < start + 50_000; i++) rows.push({ deviceId: bigId, key: 'v', ts: T0 + i, value: i });
      await api.store.appendTelemetry(rows);
    }
    await api.store.ensureTenant({ id: OTHER_TENANT, name: 'other' });
    foreignId = (await api.registry.createDevice({ tenantId: OTHER_TENANT, name: 'theirs' })).device.id;
    await api.store.appendTelemetry([{ deviceId: foreignId, key: 'temp', ts: T0, value: 1 }]);
    await api.auth.createUser({ email: 'other@example.com', password: 'another long password', tenantId: OTHER_TENANT, role: 'admin' });
    otherToken = (await api.auth.login('other@example.com', 'another long password')).token;
    await api.call('POST', '/api/users', { email: 'op@example.com', password: 'operator-password-1', role: 'user' });
    operatorToken = (await api.auth.login('op@example.com', 'operator-password-1')).token;
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, token = api.token) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('streams the header and every row, key by key, with CSV quoting and formula-looking text neutralised', async () => {
    const res = await get(`/api/devices/${deviceId}/telemetry/export?format=csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="telemetry-/);
    const iso = (ms: number) => new Date(ms).toISOString();
    assert.equal(
      await res.text(),
      [
        'ts,key,value',
        `${iso(T0)},'+key,1`,
        `${iso(T0)},cfg,"{""a"":[1,2]}"`,
        `${iso(T0)},note,"a, ""quoted""\nline"`,
        `${iso(T0 + 1000)},note,"'=HYPERLINK(""http://evil"")"`,
        `${iso(T0 + 2000)},note,'@SUM(1)`,
        `${iso(T0)},on,true`,
        `${iso(T0)},temp,21.5`,
        `${iso(T0 + 1000)},temp,-3`,
        `${iso(T0 + 2000)},temp,0`,
        '',
      ].join('\r\n'),
    );
  });

  it('keeps to the keys and the range, both ends inclusive; an operator may export', async () => {
    const res = await get(`/api/devices/${deviceId}/telemetry/export?keys=temp&from=${T0 + 1000}&to=${T0 + 2000}`, operatorToken);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.text()).trimEnd().split('\r\n'), ['ts,key,value', `${new Date(T0 + 1000).toISOString()},temp,-3`, `${new Date(T0 + 2000).toISOString()},temp,0`]);
    const empty = await get(`/api/devices/${deviceId}/telemetry/export?keys=temp&from=${T0 + 1}&to=${T0 + 999}`);
    assert.equal(await empty.text(), 'ts,key,value\r\n');
  });

  it('has no 100k cap: every one of 400,000 points, in order', async () => {
    const text = await (await get(`/api/devices/${bigId}/telemetry/export`)).text();
    const lines = text.trimEnd().split('\r\n');
    assert.equal(lines.length, BIG + 1);
    assert.equal(lines[1], `${new Date(T0).toISOString()},v,0`);
    assert.equal(lines[BIG], `${new Date(T0 + BIG - 1).toISOString()},v,${BIG - 1}`);
  });

  it('checks the query and keeps tenants apart: 400 for a bad range or format, 404 for another tenant’s device, 401 without a token', async () => {
    assert.equal((await get(`/api/devices/${deviceId}/telemetry/export?from=5&to=4`)).status, 400);
    assert.equal((await get(`/api/devices/${deviceId}/telemetry/export?format=parquet`)).status, 400);
    const foreign = await get(`/api/devices/${foreignId}/telemetry/export`);
    assert.equal(foreign.status, 404);
    assert.equal(((await foreign.json()) as { error: string }).error, 'DEVICE_NOT_FOUND');
    assert.equal((await get(`/api/devices/${deviceId}/telemetry/export`, otherToken)).status, 404);
    assert.equal((await get(`/api/devices/${foreignId}/telemetry/export`, otherToken)).status, 200);
    assert.equal((await fetch(`${api.url}/api/devices/${deviceId}/telemetry/export`)).status, 401);
  });

  it('continuum telemetry export DEVICE writes the same CSV to stdout; another tenant\'s device is "not found" (exit 3)', async () => {
    const env = { CONTINUUM_URL: api.url };
    const login = ['--email', ADMIN.email, '--password', ADMIN.password];
    const run = await runCli(['telemetry', 'export', 'meter', '--keys', 'temp', '--from', new Date(T0 + 1000).toISOString(), ...login], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `ts,key,value\r\n${new Date(T0 + 1000).toISOString()},temp,-3\r\n${new Date(T0 + 2000).toISOString()},temp,0\r\n`);
    const foreign = await runCli(['telemetry', 'export', foreignId, ...login], env);
    assert.equal(foreign.code, 3, foreign.stderr);
    assert.equal(foreign.stdout, '');
  });

  it('reads the store only as fast as a paused client takes rows, and stops when it goes away', async () => {
    const pages = Math.ceil(BIG / EXPORT_PAGE);
    /** The read count once it stopped moving (the server waits on the socket, or finished). */
    const settled = async (): Promise<number> => {
      let last = -1;
      for (let same = 0; same < 5; ) {
        await new Promise((r) => setTimeout(r, 100));
        same = reads.count === last ? same + 1 : 0;
        last = reads.count;
      }
      return last;
    };
    const start = reads.count;
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      httpGet(`${api.url}/api/devices/${bigId}/telemetry/export`, { headers: { authorization: `Bearer ${api.token}` } }, resolve).on('error', reject),
    );
    assert.equal(res.statusCode, 200);
    res.pause();
    const whilePaused = (await settled()) - start;
    assert.ok(whilePaused < pages, `paused client: ${whilePaused} of ${pages} pages read`);
    res.destroy();
    const afterGone = (await settled()) - start;
    assert.ok(afterGone < pages, `client gone: ${afterGone} of ${pages} pages read`);
  });
});
