#!/usr/bin/env node
// npm's `pretest` step: finds the Debian peers the tests talk to (mosquitto_pub, coap-client,
// chromium, pymodbus, Net::SMPP, …) that this machine lacks, before a 10-minute run fails on them
// one by one. The list is .ci/debian-peers.txt, the same file .ci/run installs from.
//
// Missing packages are installed with apt-get when running as root (CI, containers); otherwise the
// one command to run is printed and the step fails. Everything present costs two short child
// processes (python3, perl) and a TCP connect, well under a second.
//
//   node scripts/peers.mjs            check, install as root, exit 1 if anything is still missing
//   node scripts/peers.mjs --check    check only, never install (exit 1 if anything is missing)
//   node scripts/peers.mjs --list     print the package names (what .ci/run installs)
// CONTINUUM_SKIP_PEERS=1 skips the step (a machine that runs only the unit tests, say).
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const LIST = join(dirname(fileURLToPath(import.meta.url)), '..', '.ci', 'debian-peers.txt');
const NATS_URL = process.env.CONTINUUM_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Parses the list: [{ pkg, checks: ['cmd:x', 'py:y'] }]. */
export function readPeers(file = LIST) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const [pkg, ...checks] = line.split(/\s+/);
      return { pkg, checks };
    });
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd, path) {
  if (isAbsolute(cmd)) return executable(cmd);
  // A non-root PATH on Debian leaves out the sbin directories where daemons live.
  const dirs = [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => executable(join(dir, cmd)));
}

/** Modules of one interpreter that fail to load: one child process for all of them. */
function missingModules(interpreter, flag, script, modules) {
  if (modules.length === 0) return new Set();
  if (!executable(interpreter)) return new Set(modules);
  const res = spawnSync(interpreter, [flag, script, ...modules], { encoding: 'utf8', timeout: 20_000 });
  if (res.status !== 0) return new Set(modules);
  return new Set(res.stdout.split('\n').filter(Boolean));
}

const PYTHON_SCRIPT = 'import importlib,sys\nfor m in sys.argv[1:]:\n  try: importlib.import_module(m)\n  except Exception: print(m)';
const PERL_SCRIPT = 'for my $m (@ARGV) { print "$m\\n" unless eval "require $m; 1" }';

/** The packages whose checks fail, with the failing checks. */
export function findMissing(peers, path = process.env.PATH ?? '') {
  const checks = peers.flatMap((p) => p.checks);
  const py = [...new Set(checks.filter((c) => c.startsWith('py:')).map((c) => c.slice(3)))];
  const pl = [...new Set(checks.filter((c) => c.startsWith('perl:')).map((c) => c.slice(5)))];
  const pyMissing = missingModules('/usr/bin/python3', '-c', PYTHON_SCRIPT, py);
  const plMissing = missingModules('/usr/bin/perl', '-e', PERL_SCRIPT, pl);
  const failed = (check) => {
    const [kind, what] = [check.slice(0, check.indexOf(':')), check.slice(check.indexOf(':') + 1)];
    if (kind === 'cmd') return !onPath(what, path);
    if (kind === 'py') return pyMissing.has(what);
    if (kind === 'perl') return plMissing.has(what);
    throw new Error(`${LIST}: unknown check "${check}"`);
  };
  return peers.map((p) => ({ pkg: p.pkg, failed: p.checks.filter(failed) })).filter((p) => p.failed.length > 0);
}

/** Whether a NATS server answers (the bus tests need one running, not only installed). */
function natsAnswers(url) {
  const { hostname, port } = new URL(url.split(',')[0] ?? url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 4222), timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const installCommand = (pkgs, sudo) => `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;

async function main(argv) {
  const peers = readPeers();
  if (argv.includes('--list')) return console.log(peers.map((p) => p.pkg).join('\n')), 0;
  if (process.env.CONTINUUM_SKIP_PEERS === '1') return 0;
  let missing = findMissing(peers);
  const isRoot = process.getuid?.() === 0;
  if (missing.length > 0 && isRoot && !argv.includes('--check')) {
    const pkgs = missing.map((m) => m.pkg);
    console.error(`pretest: installing the missing test peers: ${pkgs.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...pkgs]]) {
      const res = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (res.status !== 0) break;
    }
    missing = findMissing(peers);
  }
  let code = 0;
  if (missing.length > 0) {
    console.error('pretest: the tests need these Debian packages, which this machine lacks:');
    for (const m of missing) console.error(`  ${m.pkg.padEnd(24)} (${m.failed.join(', ')})`);
    console.error(`Install them with:\n  ${installCommand(missing.map((m) => m.pkg), isRoot ? '' : 'sudo ')}`);
    console.error('(or CONTINUUM_SKIP_PEERS=1 npm test to run anyway)');
    code = 1;
  }
  if (!missing.some((m) => m.pkg === 'nats-server') && !(await natsAnswers(NATS_URL))) {
    console.error(`pretest: no NATS server answers at ${NATS_URL} (the bus tests need one with JetStream).`);
    console.error('Start one with:\n  nats-server -js -a 127.0.0.1 -p 4222 &   (or set CONTINUUM_TEST_NATS_URL)');
    code = 1;
  }
  return code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
