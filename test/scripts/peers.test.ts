/**
 * npm's pretest step (scripts/peers.mjs) finds the Debian peers a machine lacks from the one list
 * .ci/run installs from, names each with the failing check and prints the one command to run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tmp.js';

const SCRIPT = 'scripts/peers.mjs';

function run(args: string[], path = process.env.PATH ?? '') {
  const res = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, PATH: path, CONTINUUM_SKIP_PEERS: '' } });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** A PATH directory holding every command of the real PATH that the list checks, except `hide`. */
function pathWithout(...hide: string[]): string {
  const dir = join(tempDir(), 'bin');
  mkdirSync(dir);
  const list = readFileSync('.ci/debian-peers.txt', 'utf8');
  const commands = [...list.matchAll(/cmd:([\w.-]+)/g)].map((m) => m[1] ?? '');
  for (const cmd of commands) {
    if (hide.includes(cmd)) continue;
    const found = spawnSync('sh', ['-c', `command -v ${cmd} || true`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(dir, cmd));
  }
  return dir;
}

test('.ci/run and the pretest step read the same list', () => {
  const ci = readFileSync('.ci/run', 'utf8');
  assert.match(ci, /\.ci\/debian-peers\.txt/);
  assert.doesNotMatch(ci, /PKGS=\(/, 'no second list in .ci/run');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.pretest, 'node scripts/peers.mjs');
  const listed = run(['--list']).stdout.trim().split('\n');
  for (const p of ['mosquitto-clients', 'libcoap3-bin', 'chromium', 'python3-pymodbus', 'mbpoll', 'libnet-smpp-perl', 'socat', 'nats-server']) assert.ok(listed.includes(p), p);
});

test('on this machine (every peer installed) the check passes, quickly', () => {
  const started = Date.now();
  const res = run(['--check']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '');
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('a PATH that hides mosquitto_pub: the package is named with the command to install it', () => {
  const res = run(['--check'], pathWithout('mosquitto_pub'));
  assert.equal(res.code, 1);
  assert.match(res.stderr, /mosquitto-clients\s+\(cmd:mosquitto_pub\)/);
  assert.match(res.stderr, /apt-get install -y --no-install-recommends mosquitto-clients\n/);
  // Only that one: the other peers are found through the same PATH.
  assert.doesNotMatch(res.stderr, /libcoap3-bin|socat|mbpoll/);
});

test('a PATH that hides socat and coap-client: both packages in one command', () => {
  const res = run(['--check'], pathWithout('socat', 'coap-client-notls'));
  assert.equal(res.code, 1);
  assert.match(res.stderr, /install -y --no-install-recommends libcoap3-bin socat\n/);
});

test('without --check: as root it runs apt-get for exactly the missing packages and checks again; otherwise it prints sudo', () => {
  const dir = pathWithout('mosquitto_pub', 'mosquitto_sub');
  const log = join(dir, '..', 'apt.log');
  // A stand-in apt-get: records its arguments and "installs" by putting the missing commands on PATH.
  writeFileSync(
    join(dir, 'apt-get'),
    `#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> '${log}'\ncase "$1" in install) for c in mosquitto_pub mosquitto_sub; do printf '#!/bin/sh\\n' > '${dir}'/$c; /bin/chmod +x '${dir}'/$c; done;; esac\n`,
    { mode: 0o755 },
  );
  const res = run([], dir);
  if (process.getuid?.() === 0) {
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /installing the missing test peers: mosquitto-clients\n/);
    assert.equal(readFileSync(log, 'utf8'), 'noninteractive update -qq\nnoninteractive install -y -qq --no-install-recommends mosquitto-clients\n');
  } else {
    assert.equal(res.code, 1);
    assert.match(res.stderr, /sudo apt-get update && sudo apt-get install -y --no-install-recommends mosquitto-clients\n/);
  }
});
