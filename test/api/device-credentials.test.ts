/**
 * Device credentials (issue 12, item 3): readable by admins only, and stored so that a copy of
 * the database hands out no working access token — a keyed hash (HMAC-SHA-256, key outside the
 * database) and a hint; the token in full only in the answer that set it. Checked on a real
 * platform with its SQLite file read byte for byte, the device API as the proof that a token
 * works, and an old database (clear tokens, schema before v9) migrated on open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/adapters/store/sqlite/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { apiClient, startTestPlatform, tempDir, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let operator: ApiClient;

before(async () => {
  tp = await startTestPlatform();
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'op@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'op@test.local', password: 'operator-password-1' });
});
after(async () => {
  await tp.stop();
});

/** What a device sees: 200 when the token authenticates, 401 when it does not. */
async function deviceApiStatus(baseUrl: string, token: string): Promise<number> {
  const res = await fetch(`${baseUrl}/api/v1/${encodeURIComponent(token)}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"t":1}' });
  await res.arrayBuffer();
  return res.status;
}

/** Every file of the database (main file, WAL, shared memory, journals), as bytes. */
function databaseFiles(dataDir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dataDir)) {
    if (name.startsWith('continuum.db') && statSync(join(dataDir, name)).isFile()) files.set(name, readFileSync(join(dataDir, name)));
  }
  assert.ok(files.has('continuum.db'));
  return files;
}

/** Every value of every row of every table, as text (a copy opened with any SQLite tool). */
function everyValue(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all();
    return tables.flatMap(({ name }) =>
      db
        .prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`)
        .raw()
        .all()
        .flatMap((row) => (row as unknown[]).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)))),
    );
  } finally {
    db.close();
  }
}

function assertNowhere(dataDir: string, secrets: readonly string[]): void {
  for (const [name, bytes] of databaseFiles(dataDir)) {
    for (const secret of secrets) assert.equal(bytes.indexOf(secret), -1, `${secret} found in the bytes of ${name}`);
  }
  const values = everyValue(join(dataDir, 'continuum.db'));
  for (const secret of secrets) assert.ok(!values.some((v) => v.includes(secret)), `${secret} found in a table`);
}

test('regression: operators read every device credential', async () => {
  const device = await tp.api.createDevice('cred-read');
  const denied = await operator.request('GET', `/api/devices/${device.id}/credentials`);
  assert.equal(denied.status, 403);
  assert.doesNotMatch(JSON.stringify(denied.body), new RegExp(device.accessToken));
  const rotate = await operator.request('PUT', `/api/devices/${device.id}/credentials`, { type: 'ACCESS_TOKEN' });
  assert.equal(rotate.status, 403);
  // Even an admin reads a hint, never the token.
  const read = await tp.api.request('GET', `/api/devices/${device.id}/credentials`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body, [{ type: 'ACCESS_TOKEN', hint: `${device.accessToken.slice(0, 4)}…` }]);
});

test('regression: a copy of the database hands out device tokens', async () => {
  const generated = await tp.api.createDevice('copy-generated');
  const chosen = await tp.api.createDevice('copy-chosen', { accessToken: 'firmware-fixed-token-42' });
  const rotated = await tp.api.createDevice('copy-rotated');
  const set = await tp.api.request<{ token: string }>('PUT', `/api/devices/${rotated.id}/credentials`, { type: 'ACCESS_TOKEN' });
  const imported = await tp.api.request<{ devices: { accessToken?: string }[] }>('POST', '/api/devices/import', { csv: 'name,accessToken\ncopy-imported,imported-token-77\ncopy-imported-2,\n' });
  const importedGenerated = imported.body.devices[1]?.accessToken ?? '';
  const tokens = [generated.accessToken, 'firmware-fixed-token-42', set.body.token, 'imported-token-77', importedGenerated];
  for (const token of tokens) assert.equal(await deviceApiStatus(tp.baseUrl, token), 200, `${token} works`);
  assert.equal(chosen.accessToken, 'firmware-fixed-token-42');
  // A copy of the live files (as a backup tool or an attacker with read access takes it) …
  assertNowhere(tp.dataDir, tokens);
  // … and the key that would make the hashes useful is not in the database either.
  const key = readFileSync(join(tp.dataDir, 'credential.key'), 'utf8').trim();
  assertNowhere(tp.dataDir, [key, Buffer.from(key, 'base64').toString('hex')]);
  assert.equal(statSync(join(tp.dataDir, 'credential.key')).mode & 0o777, 0o600);
});

test('a token is shown in full once, at creation and at rotation; GET shows its hint; the old token stops working', async () => {
  const created = await tp.api.request<{ id: string; accessToken: string; credentials: unknown[] }>('POST', '/api/devices', { name: 'once' });
  assert.equal(created.status, 201);
  const first = created.body.accessToken;
  assert.match(first, /^[0-9A-Za-z]{20}$/);
  assert.deepEqual(created.body.credentials, [{ type: 'ACCESS_TOKEN', hint: `${first.slice(0, 4)}…`, token: first }]);
  const got = await tp.api.request<{ accessToken?: string }>('GET', `/api/devices/${created.body.id}`);
  assert.equal(got.body.accessToken, undefined);
  assert.equal(await deviceApiStatus(tp.baseUrl, first), 200);

  const set = await tp.api.request<{ type: string; hint: string; token: string }>('PUT', `/api/devices/${created.body.id}/credentials`, { type: 'ACCESS_TOKEN' });
  assert.equal(set.status, 200);
  const second = set.body.token;
  assert.notEqual(second, first);
  assert.deepEqual(set.body, { type: 'ACCESS_TOKEN', hint: `${second.slice(0, 4)}…`, token: second });
  const read = await tp.api.request('GET', `/api/devices/${created.body.id}/credentials`);
  assert.deepEqual(read.body, [{ type: 'ACCESS_TOKEN', hint: `${second.slice(0, 4)}…` }]);
  assert.equal(await deviceApiStatus(tp.baseUrl, first), 401, 'the old token is refused at once');
  assert.equal(await deviceApiStatus(tp.baseUrl, second), 200);

  // A short token chosen by a user does not give half of itself away in its hint.
  const short = await tp.api.request<{ hint: string }>('PUT', `/api/devices/${created.body.id}/credentials`, { type: 'ACCESS_TOKEN', token: 'abcdefg' });
  assert.equal(short.body.hint, 'a…');
});

test('device passwords (MQTT basic) must be 8..255 characters: a clear 400 on create and update', async () => {
  const tooShort = await tp.api.request<{ message: string }>('POST', '/api/devices', { name: 'pw-short', credentials: { type: 'MQTT_BASIC', username: 'pw-short', password: 'x' } });
  assert.equal(tooShort.status, 400);
  assert.match(tooShort.body.message, /password must be 8\.\.255 characters/);
  const ok = await tp.api.createDevice('pw-ok', { credentials: { type: 'MQTT_BASIC', username: 'pw-ok', password: 'long-enough' } });
  const update = await tp.api.request<{ message: string }>('PUT', `/api/devices/${ok.id}/credentials`, { type: 'MQTT_BASIC', username: 'pw-ok', password: '1234567' });
  assert.equal(update.status, 400);
  assert.match(update.body.message, /password must be 8\.\.255 characters/);
  const tooLong = await tp.api.request('PUT', `/api/devices/${ok.id}/credentials`, { type: 'MQTT_BASIC', username: 'pw-ok', password: 'x'.repeat(256) });
  assert.equal(tooLong.status, 400);
});

/** A database as the build before schema v9 wrote it: access tokens in clear. */
function oldDatabase(dataDir: string, token: string): void {
  const db = new Database(join(dataDir, 'continuum.db'));
  try {
    db.pragma('journal_mode = WAL');
    const before = MIGRATIONS.filter((m) => m.version < 9);
    for (const m of before) m.up(db, {});
    db.pragma(`user_version = ${before.at(-1)?.version ?? 0}`);
    db.prepare(`INSERT INTO tenants (id, name) VALUES (?, 'Default')`).run(DEFAULT_TENANT_ID);
    db.prepare(`INSERT INTO profiles (id, tenant_id, name, codec, telemetry_keys, created_at) VALUES ('p-old', ?, 'default', 'json', '[]', 1)`).run(DEFAULT_TENANT_ID);
    db.prepare(
      `INSERT INTO devices (id, tenant_id, name, name_fold, profile_id, is_gateway, created_at) VALUES ('d-old', ?, 'old-meter', 'old-meter', 'p-old', 0, 1)`,
    ).run(DEFAULT_TENANT_ID);
    db.prepare(`INSERT INTO credentials (device_id, type, cred_key, token) VALUES ('d-old', 'ACCESS_TOKEN', ?, ?)`).run(`token:${token}`, token);
  } finally {
    db.close();
  }
}

test('an old database with tokens in clear is migrated on open: the old token still works and is gone from the file', async () => {
  const dataDir = tempDir();
  const token = 'legacy-clear-token-0001';
  oldDatabase(dataDir, token);
  assert.ok(readFileSync(join(dataDir, 'continuum.db')).indexOf(token) !== -1 || readFileSync(join(dataDir, 'continuum.db-wal')).indexOf(token) !== -1);
  const old = await startTestPlatform({ dataDir });
  try {
    assert.equal(await deviceApiStatus(old.baseUrl, token), 200);
    const devices = await old.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/devices?search=old-meter');
    const id = devices.body.items[0]?.id ?? '';
    assert.deepEqual((await old.api.request('GET', `/api/devices/${id}/credentials`)).body, [{ type: 'ACCESS_TOKEN', hint: 'lega…' }]);
    assertNowhere(dataDir, [token]);
  } finally {
    await old.stop();
  }
  // The next start (same key file) still authenticates it; a start with another key is refused.
  const again = await startTestPlatform({ dataDir });
  try {
    assert.equal(await deviceApiStatus(again.baseUrl, token), 200);
  } finally {
    await again.stop();
  }
  await assert.rejects(
    startTestPlatform({ dataDir, config: { auth: { adminEmail: 'admin@test.local', adminPassword: 'test-password-1', jwtTtlSeconds: 3600, credentialKey: Buffer.alloc(32, 7).toString('base64') } } }),
    /credential key does not match this database/,
  );
  assert.ok(existsSync(join(dataDir, 'credential.key')));
});
