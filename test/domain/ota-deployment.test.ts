/** The pure part of rollouts: wave sizes, abort threshold, maintenance window, what a report means. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countStates, inWindow, reportOutcome, shouldAbort, waveSizes, type DeploymentPlan } from '../../src/domain/ota-deployment.js';

const plan = (extra: Partial<DeploymentPlan> = {}): DeploymentPlan => ({ canaries: 0, timeouts: { notifiedMs: 1000, progressMs: 1000 }, retries: 0, jitterMs: 0, ...extra });

describe('waveSizes', () => {
  it('splits by cumulative percentages, canaries first, summing to the total', () => {
    assert.deepEqual(waveSizes(1000, { waves: [10, 50, 100], canaries: 0 }), [100, 400, 500]);
    assert.deepEqual(waveSizes(1000, { waves: [10, 50, 100], canaries: 5 }), [5, 100, 398, 497]);
    assert.deepEqual(waveSizes(7, { waves: [10, 50, 100], canaries: 0 }), [1, 3, 3]);
    assert.deepEqual(waveSizes(3, { canaries: 5 }), [3]);
    assert.deepEqual(waveSizes(10, { canaries: 0 }), [10]);
  });
  it('grows exponentially with a rate (base, factor), at least by one', () => {
    assert.deepEqual(waveSizes(100, { rate: { base: 5, factor: 2 }, canaries: 0 }), [5, 10, 20, 40, 25]);
    assert.deepEqual(waveSizes(6, { rate: { base: 1, factor: 1 }, canaries: 0 }), [1, 2, 3]);
  });
});

describe('abort and window', () => {
  it('aborts when failures exceed the percentage once enough devices finished', () => {
    const counts = (updated: number, failed: number) => countStates([...Array(updated).fill({ state: 'updated' }), ...Array(failed).fill({ state: 'failed' })]);
    const p = plan({ abort: { percent: 20, after: 10 } });
    assert.equal(shouldAbort(p, counts(5, 4)), false, 'not enough finished');
    assert.equal(shouldAbort(p, counts(8, 2)), false, 'exactly 20% is not over');
    assert.equal(shouldAbort(p, counts(7, 3)), true);
    assert.equal(shouldAbort(plan(), counts(0, 30)), false, 'no threshold, no abort');
  });
  it('tells devices only inside the maintenance window, which may wrap midnight', () => {
    const at = (h: number) => Date.UTC(2026, 0, 1, h, 30);
    const night = plan({ window: { startHour: 22, endHour: 4 } });
    assert.deepEqual([21, 22, 23, 0, 3, 4].map((h) => inWindow(night, at(h))), [false, true, true, true, true, false]);
    const day = plan({ window: { startHour: 9, endHour: 17 } });
    assert.deepEqual([8, 9, 16, 17].map((h) => inWindow(day, at(h))), [false, true, true, false]);
    assert.equal(inWindow(plan(), at(3)), true);
  });
});

describe('reportOutcome', () => {
  const told = { state: 'notified' as const };
  it('UPDATED only on the target version; FAILED with its error; other states are progress', () => {
    assert.deepEqual(reportOutcome(told, '2', 'DOWNLOADING', undefined, '1'), { state: 'in_progress', fwState: 'DOWNLOADING' });
    assert.deepEqual(reportOutcome(told, '2', 'UPDATED', undefined, '2'), { state: 'updated' });
    assert.deepEqual(reportOutcome(told, '2', undefined, undefined, '2'), { state: 'updated' });
    assert.equal(reportOutcome(told, '2', 'UPDATED', undefined, undefined), undefined, 'UPDATED without a version proves nothing');
    assert.deepEqual(reportOutcome(told, '2', 'FAILED', 'checksum mismatch', undefined), { state: 'failed', error: 'checksum mismatch' });
  });
  it('back on another version after UPDATING (or UPDATED on another version) is a failure', () => {
    const updating = { state: 'in_progress' as const, fwState: 'UPDATING' };
    assert.deepEqual(reportOutcome(updating, '2', undefined, undefined, '1'), { state: 'failed', error: 'came back on version 1, not 2' });
    assert.deepEqual(reportOutcome(told, '2', 'UPDATED', undefined, '1'), { state: 'failed', error: 'came back on version 1, not 2' });
    const downloading = { state: 'in_progress' as const, fwState: 'DOWNLOADING' };
    assert.equal(reportOutcome(downloading, '2', undefined, undefined, '1'), undefined, 'the old version while downloading is normal');
  });
  it('ignores reports of devices not being updated', () => {
    assert.equal(reportOutcome({ state: 'queued' }, '2', 'FAILED', 'x', undefined), undefined);
    assert.equal(reportOutcome({ state: 'updated' }, '2', 'FAILED', 'x', '1'), undefined);
  });
});
