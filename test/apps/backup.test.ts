/**
 * `continuum backup` while a device keeps publishing, and `continuum restore` into a fresh data
 * dir: a platform started there has the device, every point acknowledged before the backup began,
 * the same credential key (the device's old token still signs in) and the OTA package's bytes.
 * Restore refuses while a platform holds the data dir, over an existing database without --force,
 * and on a tampered or damaged archive, before anything is written.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { TarWriter } from '../../src/apps/tar.js';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const TELEMETRY = 'v1/devices/me/telemetry';

describe('continuum backup / restore', () => {
  let source: TestPlatform;
  let device: { id: string; accessToken: string };
  let pkg: { id: string; checksum: string };
  const firmware = randomBytes(300_000);
  let backupFile: string;
  let ackedBeforeBackup = 0;
  let sentByEnd = 0;

  before(async () => {
    source = await startTestPlatform();
    device = await source.api.createDevice('backup-meter');
    const upload = await fetch(`${source.baseUrl}/api/ota/packages?title=meter-fw&version=1.0`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(source.baseUrl)}`, 'content-type': 'application/octet-stream' },
      body: firmware,
    });
    assert.equal(upload.status, 201, await upload.clone().text());
    pkg = (await upload.json()) as { id: string; checksum: string };
  });
  after(() => source.stop());

  it('backs up while a device publishes (from another process), without stopping the platform', async (t) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${source.ports.mqtt}`, { username: device.accessToken, reconnectPeriod: 0 });
    let acked = 0;
    let sent = 0;
    let stop = false;
    const publishing = (async () => {
      while (!stop) {
        sent++;
        await client.publishAsync(TELEMETRY, JSON.stringify({ n: sent }), { qos: 1 });
        acked++;
      }
    })();
    while (acked < 300) await new Promise((r) => setTimeout(r, 10));
    backupFile = join(tempDir(), 'continuum-backup.tar');
    ackedBeforeBackup = acked;
    const started = performance.now();
    const res = await runCli(['backup', backupFile, '--data-dir', source.dataDir, '--json']);
    const ms = performance.now() - started;
    const ackedAfterBackup = acked;
    stop = true;
    await publishing;
    sentByEnd = sent;
    await client.endAsync();
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    const summary = JSON.parse(res.stdout) as { file: string; packages: number; credentialKey: boolean; schemaVersion: number };
    assert.equal(summary.file, backupFile);
    assert.equal(summary.packages, 1);
    assert.equal(summary.credentialKey, true);
    assert.ok(summary.schemaVersion > 0);
    t.diagnostic(`backup command ${Math.round(ms)} ms (CLI start included), ${statSync(backupFile).size} bytes; ${ackedAfterBackup - ackedBeforeBackup} points acked while it ran`);
    assert.ok(ackedAfterBackup > ackedBeforeBackup, `ingest went on during the backup (${ackedBeforeBackup} → ${ackedAfterBackup} acked)`);
    assert.equal(statSync(backupFile).mode & 0o777, 0o600, 'the backup holds secrets: owner only');
    // A plain tar: the database, the key, the package by its SHA-256, the manifest last.
    const names = tarNames(backupFile);
    assert.deepEqual(names, ['continuum.db', 'credential.key', `ota/sha256/${pkg.checksum.slice(0, 2)}/${pkg.checksum}`, 'manifest.json']);
    assert.deepEqual(readdirSync(join(backupFile, '..')), ['continuum-backup.tar'], 'no work files left beside it');
  });

  it('refuses to restore into the data dir of a running platform (another process), and changes nothing', async () => {
    const before = statSync(join(source.dataDir, 'continuum.db')).mtimeMs;
    const res = await runCli(['restore', backupFile, '--data-dir', source.dataDir, '--force']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /data directory .* is in use by another Continuum server \(pid \d+\).*restore needs the server stopped/);
    assert.ok(statSync(join(source.dataDir, 'continuum.db')).mtimeMs >= before);
    assert.equal(readdirSync(source.dataDir).filter((n) => n.startsWith('.restore-') || n.startsWith('pre-restore-')).length, 0);
  });

  it('restores into a fresh data dir: the device, its points, its token and the OTA package are there', async (t) => {
    const fresh = join(tempDir(), 'restored');
    const res = await runCli(['restore', backupFile, '--data-dir', fresh]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^restored the backup of \S+ into .*restored: schema version \d+, 1 OTA package\(s\)\n$/);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    assert.equal(statSync(join(fresh, 'credential.key')).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(join(fresh, 'credential.key')), readFileSync(join(source.dataDir, 'credential.key')));

    const restored = await startTestPlatform({ dataDir: fresh });
    try {
      const got = await restored.api.request<{ id: string; name: string }>('GET', `/api/devices/${device.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.name, 'backup-meter');
      const points = await restored.api.request<{ n?: Array<{ ts: number; value: unknown }> }>('GET', `/api/devices/${device.id}/telemetry?keys=n&limit=100000`);
      const count = points.body.n?.length ?? 0;
      assert.ok(count >= ackedBeforeBackup, `every point acknowledged before the backup began is there: ${count} ≥ ${ackedBeforeBackup}`);
      assert.ok(count <= sentByEnd, `${count} ≤ ${sentByEnd} sent`);
      t.diagnostic(`points: ${ackedBeforeBackup} acked before the backup began, ${count} restored, ${sentByEnd} sent in all`);
      // The access token was hashed with the credential key: it signs in only if the key came back too.
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${restored.ports.mqtt}`, { username: device.accessToken, reconnectPeriod: 0 });
      await client.publishAsync(TELEMETRY, JSON.stringify({ n: -1 }), { qos: 1 });
      await client.endAsync();
      const bytes = await fetch(`${restored.baseUrl}/api/ota/packages/${pkg.id}/data`, { headers: { authorization: `Bearer ${await token(restored.baseUrl)}` } });
      assert.equal(bytes.status, 200);
      assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), firmware);
    } finally {
      await restored.stop();
    }

    const again = await runCli(['restore', backupFile, '--data-dir', fresh]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a database: .*--force/);
    const forced = await runCli(['restore', backupFile, '--data-dir', fresh, '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    const { movedAside } = JSON.parse(forced.stdout) as { movedAside: string };
    assert.ok(existsSync(join(movedAside, 'continuum.db')), 'the replaced database is kept aside');
  });

  it('refuses a tampered archive (a path outside the data dir) and a damaged one, writing nothing', async () => {
    const dir = tempDir();
    const evil = join(dir, 'evil.tar');
    const fd = openSync(evil, 'w');
    const tar = new TarWriter(fd);
    tar.addFile('continuum.db', join(source.dataDir, 'continuum.db'));
    tar.addBuffer('../../escaped', Buffer.from('x'));
    tar.finish();
    closeSync(fd);
    const target = join(dir, 'target');
    const res = await runCli(['restore', evil, '--data-dir', target]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /unexpected file in the backup: "\.\.\/\.\.\/escaped"/);
    assert.equal(existsSync(join(dir, 'escaped')) || existsSync(target), false);

    const damaged = join(dir, 'damaged.tar');
    const copy = readFileSync(backupFile);
    copy[512 + 4096] = (copy[512 + 4096] ?? 0) ^ 0xff; // a byte inside continuum.db's data
    writeFileSync(damaged, copy);
    const bad = await runCli(['restore', damaged, '--data-dir', target]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /continuum\.db does not match the manifest \(damaged backup\)/);
    assert.deepEqual(readdirSync(target), [], 'the staging folder is gone, nothing restored');
  });
});

async function token(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  return ((await res.json()) as { token: string }).token;
}

/** Entry names of a tar, read with the system's tar (an independent reader). */
function tarNames(file: string): string[] {
  return execFileSync('tar', ['tf', file], { encoding: 'utf8' }).trim().split('\n');
}
