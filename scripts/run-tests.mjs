#!/usr/bin/env node
// Runs every test/**/*.test.ts through node's test runner with tsx. Node 20's --test takes no
// globs, so the files are listed here. Extra arguments filter by path substring; --list prints
// each file with its lane instead of running anything.
//
// Two lanes, one after the other, so the suite fits CI's budget on two cores:
// - the shared lane: TEST_CONCURRENCY files at a time (default 2). Each file is its own process
//   with its own ports (port 0), data directories, PostgreSQL database and NATS prefix, so files
//   share nothing but the machine; most of them wait on sockets, child processes and timers
//   rather than use a core, and two at a time about halves their wall time.
// - the serial lane (SERIAL below): files that need the machine to themselves — a browser, a
//   CPU-bound fuzz or benchmark-like loop, the end-to-end runs of the whole platform, or a long
//   file that measures its own peers' timing — one at a time, after the shared lane.
//
// Two guards, so a hanging test fails the run instead of holding CI until its own limit:
// - TEST_TIMEOUT_MS (default 300000, 5 min) goes to --test-timeout. Node 20 applies it to each
//   test FILE as a whole (the runner cancels the file's subprocess and reports it failed, then
//   goes on with the next file); newer Node versions also apply it to each test. The slowest
//   files (test/apps/cli-user.test.ts, cli.test.ts) took 2.2 min in a full run slowed 3x by other
//   load (32 min instead of ~10); everything else under 80 s.
// - TEST_TOTAL_TIMEOUT_MS (default 4500000, 75 min: the whole suite took ~30 min on a quiet machine
//   in December 2026 and twice that beside other load; CI's own limit is 90 min) ends the run
//   itself if the runner is stuck for any other reason; both lanes together get this much.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * The serial lane: path substrings, each with why its files do not share the machine. Measured
 * per file in December 2026 (docs/BENCHMARKS.md, "Test suite wall time").
 */
const SERIAL = [
  // Headless Chromium: a renderer and a GPU process per page, the heaviest peer we start; these
  // files also rebuild web/dist and write test-output/screenshots, which must not race.
  ['test/web/', 'Chromium through playwright-core, the dashboard build'],
  // The whole platform with real clients, SIGKILLed servers and assertions on how soon things
  // happen (children offline within a second, a decoder's 200 ms watchdog): beside another file
  // at a load average of 28 four of them failed that pass alone. security-headers also runs
  // Chromium and rebuilds web/dist.
  ['test/e2e/', 'whole-platform runs with timing assertions and restarts'],
  // Seeded fuzz corpora (~16,000 cases): CPU-bound the whole time.
  ['test/fuzz/', 'CPU-bound fuzz corpus'],
  ['test/api/isolation-matrix.test.ts', 'every route × every role: thousands of requests, CPU-bound'],
  // Long files around peers with their own timing (OPC UA sessions, an edge relaying OTA chunks,
  // BACnet/Modbus polling of the m2m twins): slow alone, and the slowest under a neighbour.
  ['test/edge/opcua', 'OPC UA server and client, ~100 s'],
  ['test/edge/ota-relay.test.ts', 'an edge relaying OTA chunks to its devices, ~90 s'],
  ['test/scenarios/m2m-twins.test.ts', 'the m2m twins: BACnet, Modbus and SMS peers polled in time, ~50 s'],
  // Hostile decoders filling memory up to the cap until the watchdog stops them: CPU and memory bound.
  ['test/adapters/decoders/native-call-blocks-event-loop.test.ts', 'decoders run to their time and memory limits'],
];

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return findTests(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

function numberFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${name} must be a positive whole number, not "${raw}"`);
    process.exit(2);
  }
  return n;
}

const fileTimeoutMs = numberFromEnv('TEST_TIMEOUT_MS', 300_000);
const totalTimeoutMs = numberFromEnv('TEST_TOTAL_TIMEOUT_MS', 4_500_000);
const concurrency = numberFromEnv('TEST_CONCURRENCY', 2);

const listOnly = process.argv.includes('--list');
const filters = process.argv.slice(2).filter((a) => a !== '--list');
const allFiles = findTests('test')
  .map((f) => f.split('\\').join('/'))
  .sort();
// A renamed or moved heavy file would slip into the shared lane unnoticed: every entry must match.
const stale = SERIAL.filter(([part]) => !allFiles.some((f) => f.includes(part)));
if (stale.length > 0) {
  console.error(`scripts/run-tests.mjs SERIAL names no test file: ${stale.map(([part]) => part).join(', ')}`);
  process.exit(2);
}
const files = allFiles.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const isSerial = (f) => SERIAL.some(([part]) => f.includes(part));
const lanes = [
  { name: 'shared lane', concurrency, files: files.filter((f) => !isSerial(f)) },
  { name: 'serial lane', concurrency: 1, files: files.filter(isSerial) },
].filter((lane) => lane.files.length > 0);
if (listOnly) {
  for (const lane of lanes) for (const f of lane.files) console.log(`${lane.name === 'serial lane' ? 'serial' : 'shared'}\t${f}`);
  process.exit(0);
}

const deadline = Date.now() + totalTimeoutMs;
let failed = false;
for (const lane of lanes) {
  const left = deadline - Date.now();
  if (left <= 0) {
    console.error(`test run stopped after ${totalTimeoutMs} ms (TEST_TOTAL_TIMEOUT_MS) before the ${lane.name}: something hangs`);
    process.exit(1);
  }
  console.log(`# ${lane.name}: ${lane.files.length} file(s), ${lane.concurrency} at a time`);
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${lane.concurrency}`, `--test-timeout=${fileTimeoutMs}`, ...lane.files],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' }, timeout: left, killSignal: 'SIGKILL' },
  );
  if (result.error?.code === 'ETIMEDOUT') {
    console.error(`test run stopped after ${totalTimeoutMs} ms (TEST_TOTAL_TIMEOUT_MS) in the ${lane.name}: something hangs`);
    process.exit(1);
  }
  // A failing lane does not stop the next one: CI reports every failure of the run at once.
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
