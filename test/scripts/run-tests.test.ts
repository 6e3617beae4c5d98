/**
 * scripts/run-tests.mjs puts each test file in a lane: the shared lane (several files at a time)
 * or the serial lane (files that need the machine to themselves). `--list` shows the lanes
 * without running anything; path filters narrow them as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function list(...args: string[]): { code: number | null; lanes: Map<string, string>; stderr: string } {
  const res = spawnSync(process.execPath, ['scripts/run-tests.mjs', '--list', ...args], { encoding: 'utf8' });
  const lanes = new Map(
    res.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [lane = '', file = ''] = line.split('\t');
        return [file, lane] as const;
      }),
  );
  return { code: res.status, lanes, stderr: res.stderr };
}

test('every test file is in exactly one lane; browsers, fuzzing and the long peer files run alone', () => {
  const { code, lanes } = list();
  assert.equal(code, 0);
  assert.ok(lanes.size > 200, `${lanes.size} files listed`);
  assert.ok([...lanes.values()].every((lane) => lane === 'shared' || lane === 'serial'));
  for (const file of ['test/web/dashboard.test.ts', 'test/fuzz/pure.fuzz.test.ts', 'test/api/isolation-matrix.test.ts', 'test/edge/opcua.test.ts', 'test/edge/ota-relay.test.ts', 'test/scenarios/m2m-twins.test.ts', 'test/e2e/security-headers.test.ts']) {
    assert.equal(lanes.get(file), 'serial', file);
  }
  for (const file of ['test/domain/detectors.test.ts', 'test/api/devices.test.ts', 'test/scripts/run-tests.test.ts']) assert.equal(lanes.get(file), 'shared', file);
});

test('path filters narrow the files (both lanes), and a filter matching nothing fails', () => {
  const { code, lanes } = list('test/edge/opcua', 'test/domain/detectors');
  assert.equal(code, 0);
  assert.deepEqual([...lanes].sort(), [
    ['test/domain/detectors.test.ts', 'shared'],
    ['test/edge/opcua-values.test.ts', 'serial'],
    ['test/edge/opcua.test.ts', 'serial'],
  ]);
  const none = list('no/such/test/file');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no test files matched/);
});
