/**
 * `continuum ota upload | list | delete` and `continuum device firmware` against a platform in
 * this process: the upload is streamed with a progress bar on a terminal, lands with the right
 * SHA-256, is listed, assigned to a device by name, shown in its status and deleted.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/apps/cli/main.js';
import { canonicalManifest } from '../../src/domain/ota-signing.js';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

function capture(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return Object.assign(w, { isTTY, text: () => text });
}

describe('continuum ota / device firmware', () => {
  let tp: TestPlatform;
  let conn: string[];
  before(async () => {
    tp = await startTestPlatform({ store: 'memory' });
    conn = ['--url', tp.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
  });
  after(() => tp.stop());

  it('uploads with progress on a terminal, lists, assigns by device name, shows the status, deletes', async () => {
    const file = join(tempDir(), 'meter-2.1.bin');
    const data = randomBytes(700_000);
    writeFileSync(file, data);
    const stdout = capture(false);
    const stderr = capture(true);
    const code = await main(['ota', 'upload', file, '--title', 'meter-fw', '--version', '2.1', '--json', ...conn], { stdout, stderr, env: {} });
    assert.equal(code, 0, stderr.text());
    const pkg = JSON.parse(stdout.text()) as { id: string; size: number; checksum: string };
    assert.equal(pkg.size, data.length);
    assert.equal(pkg.checksum, createHash('sha256').update(data).digest('hex'));
    assert.match(stderr.text(), /\r\[#+\] 700000\/700000 bytes/, 'the bar redrawn in place, ending full');

    const listed = await runCli(['ota', 'list', ...conn]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${pkg.id}\\s+firmware\\s+meter-fw\\s+2\\.1\\s+700000`));

    await tp.api.createDevice('cli-meter-1');
    const assigned = await runCli(['device', 'firmware', 'cli-meter-1', '--package', pkg.id, ...conn]);
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.equal(assigned.stdout, `assigned firmware package ${pkg.id} to "cli-meter-1"\n`);
    const status = await runCli(['device', 'firmware', 'cli-meter-1', ...conn]);
    assert.match(status.stdout, /firmware\s+meter-fw 2\.1\s+-\s+-\s+no/);

    const refused = await runCli(['ota', 'delete', pkg.id, ...conn]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is assigned to devices or profiles \(PACKAGE_IN_USE\)/);
    const other = await runCli(['ota', 'upload', file, '--title', 'meter-fw', '--version', '2.2', '--json', ...conn]);
    const otherId = (JSON.parse(other.stdout) as { id: string }).id;
    assert.equal((await runCli(['ota', 'delete', otherId, ...conn])).stdout, `deleted package ${otherId}\n`);
  });

  it('says what is missing', async () => {
    const res = await runCli(['ota', 'upload', '/nonexistent', '--title', 't', ...conn]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /--title and --version/);
    const mismatch = await runCli(['ota', 'upload', '/etc/hostname', '--title', 't', '--version', '1', '--checksum', '0'.repeat(64), ...conn]);
    assert.match(mismatch.stderr, /CHECKSUM_MISMATCH/);
  });

  it('registers a signing key, uploads with --signature (verified; a wrong one refused), lists and deletes the key, registers an external package', async () => {
    const dir = tempDir();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pubFile = join(dir, 'vendor.pub.pem');
    writeFileSync(pubFile, publicKey.export({ format: 'pem', type: 'spki' }));
    const added = await runCli(['ota', 'key', 'add', 'vendor', '--public-key', pubFile, '--json', ...conn]);
    assert.equal(added.code, 0, added.stderr);
    const keyId = (JSON.parse(added.stdout) as { id: string }).id;

    const file = join(dir, 'signed.bin');
    const data = randomBytes(3000);
    writeFileSync(file, data);
    const digest = createHash('sha256').update(data).digest('hex');
    const sigFile = join(dir, 'signed.sig');
    // 64 raw bytes, as `openssl pkeyutl -sign -rawin` writes them
    writeFileSync(sigFile, sign(null, canonicalManifest({ sha256: digest, title: 'signed-cli', version: '1.0', minVersion: '0.5' }), privateKey));
    const ok = await runCli(['ota', 'upload', file, '--title', 'signed-cli', '--version', '1.0', '--min-version', '0.5', '--signature', sigFile, ...conn]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`signature verified \\(key ${keyId}\\)`));
    const wrong = await runCli(['ota', 'upload', file, '--title', 'signed-cli', '--version', '1.1', '--signature', sigFile, ...conn]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /SIGNATURE_INVALID/);

    const listed = await runCli(['ota', 'key', 'list', ...conn]);
    assert.match(listed.stdout, new RegExp(`${keyId}\\s+vendor`));
    assert.equal((await runCli(['ota', 'key', 'delete', keyId, ...conn])).stdout, `deleted signing key ${keyId}\n`);

    const ext = await runCli(['ota', 'upload', '--external', 'https://updates.example.com/x.bin', '--checksum', digest, '--size', '3000', '--title', 'ext-cli', '--version', '1', ...conn]);
    assert.equal(ext.code, 0, ext.stderr);
    assert.match(ext.stdout, /registered external firmware "ext-cli" 1 at https:\/\/updates\.example\.com\/x\.bin/);
  });
});
