/** ReadinessService: every dependency asked, a failing or silent one is down, probes together share one round. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadinessService } from '../../src/services/readiness.js';

test('all ok: ready; none: ready with no checks', async () => {
  assert.deepEqual(await new ReadinessService([{ name: 'postgres', check: async () => undefined }]).report(), { ready: true, checks: { postgres: 'ok' } });
  assert.deepEqual(await new ReadinessService([]).report(), { ready: true, checks: {} });
});

test('a rejecting check and one that never answers are down; the others still report', async () => {
  const never = new Promise<void>(() => undefined);
  const service = new ReadinessService(
    [
      { name: 'postgres', check: () => Promise.reject(new Error('ECONNREFUSED')) },
      { name: 'nats', check: () => never },
      { name: 'other', check: async () => undefined },
    ],
    20,
  );
  assert.deepEqual(await service.report(), { ready: false, checks: { postgres: 'down', nats: 'down', other: 'ok' } });
});

test('probes arriving together share one round of checks', async () => {
  let calls = 0;
  let release: () => void = () => undefined;
  const service = new ReadinessService([{ name: 'postgres', check: () => ((calls += 1), new Promise<void>((r) => (release = r))) }]);
  const a = service.report();
  const b = service.report();
  release();
  assert.deepEqual(await Promise.all([a, b]), [{ ready: true, checks: { postgres: 'ok' } }, { ready: true, checks: { postgres: 'ok' } }]);
  assert.equal(calls, 1);
  const later = service.report();
  release();
  await later;
  assert.equal(calls, 2, 'a later probe checks again');
});
