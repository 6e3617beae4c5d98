#!/usr/bin/env node
// Runs every test/**/*.test.ts through node's test runner with tsx. Node 20's --test takes no
// globs, so the files are listed here. Extra arguments filter by path substring.
//
// Two guards, so a hanging test fails the run instead of holding CI until its own limit:
// - TEST_TIMEOUT_MS (default 300000, 5 min) goes to --test-timeout. Node 20 applies it to each
//   test FILE as a whole (the runner cancels the file's subprocess and reports it failed, then
//   goes on with the next file); newer Node versions also apply it to each test. The slowest
//   files (test/apps/cli-user.test.ts, cli.test.ts) took 2.2 min in a full run slowed 3x by other
//   load (32 min instead of ~10); everything else under 80 s.
// - TEST_TOTAL_TIMEOUT_MS (default 4500000, 75 min: the whole suite took ~30 min on a quiet machine
//   in December 2026 and twice that beside other load; CI's own limit is 90 min) ends the run
//   itself if the runner is stuck for any other reason.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return findTests(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

function msFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) {
    console.error(`${name} must be a positive number of milliseconds, not "${raw}"`);
    process.exit(2);
  }
  return ms;
}

const fileTimeoutMs = msFromEnv('TEST_TIMEOUT_MS', 300_000);
const totalTimeoutMs = msFromEnv('TEST_TOTAL_TIMEOUT_MS', 4_500_000);

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', `--test-timeout=${fileTimeoutMs}`, ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' }, timeout: totalTimeoutMs, killSignal: 'SIGKILL' },
);
if (result.error?.code === 'ETIMEDOUT') {
  console.error(`test run stopped after ${totalTimeoutMs} ms (TEST_TOTAL_TIMEOUT_MS): something hangs`);
  process.exit(1);
}
process.exit(result.status ?? 1);
