import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPlatformError } from '../../src/domain/errors.js';
import { FailureThrottle, HashGate } from '../../src/services/throttle.js';

const clockAt = (start: number) => {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

const options = { maxFailures: 3, windowMs: 60_000, lockoutMs: 10_000, maxLockoutMs: 40_000, maxKeys: 100 };

test('a key is locked after maxFailures, with a Retry-After, and lockouts double up to the cap', () => {
  const clock = clockAt(0);
  const throttle = new FailureThrottle(options, clock);
  assert.equal(throttle.failure(['acct:a', 'ip:1']), false);
  assert.equal(throttle.failure(['acct:a', 'ip:1']), false);
  assert.equal(throttle.failure(['acct:a', 'ip:1']), true);
  assert.throws(
    () => throttle.check(['acct:a'], 'sign-ins'),
    (err) => isPlatformError(err, 'RATE_LIMITED') && err.retryAfterSeconds === 10,
  );
  assert.equal(throttle.lockedFor(['acct:other']), 0);
  clock.advance(10_001);
  throttle.check(['acct:a'], 'sign-ins');
  for (let i = 0; i < 3; i++) throttle.failure(['acct:a']);
  assert.equal(throttle.lockedFor(['acct:a']), 20_000);
  clock.advance(20_001);
  for (let i = 0; i < 3; i++) throttle.failure(['acct:a']);
  clock.advance(40_001);
  for (let i = 0; i < 3; i++) throttle.failure(['acct:a']);
  assert.equal(throttle.lockedFor(['acct:a']), 40_000, 'capped');
});

test('a success clears the account; failures outside the window do not add up', () => {
  const clock = clockAt(0);
  const throttle = new FailureThrottle(options, clock);
  throttle.failure(['acct:a']);
  throttle.failure(['acct:a']);
  throttle.success('acct:a');
  throttle.failure(['acct:a']);
  throttle.failure(['acct:a']);
  assert.equal(throttle.lockedFor(['acct:a']), 0);
  clock.advance(60_001);
  throttle.failure(['acct:a']);
  assert.equal(throttle.lockedFor(['acct:a']), 0);
});

test('the throttle remembers at most maxKeys keys, keeping locked ones', () => {
  const throttle = new FailureThrottle({ ...options, maxKeys: 10 }, clockAt(0));
  for (let i = 0; i < 3; i++) throttle.failure(['locked']);
  for (let i = 0; i < 50; i++) throttle.failure([`k${i}`]);
  assert.ok(throttle.size <= 10);
  assert.ok(throttle.lockedFor(['locked']) > 0);
});

test('the hash gate runs at most N tasks at once and refuses past its queue', async () => {
  const gate = new HashGate(2, 1);
  let running = 0;
  let peak = 0;
  const releases: (() => void)[] = [];
  const task = () =>
    gate.run(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
      return 'done';
    });
  const accepted = [task(), task(), task()];
  await assert.rejects(task(), (err) => isPlatformError(err, 'UNAVAILABLE'));
  while (releases.length < 2) await new Promise((r) => setImmediate(r));
  releases.shift()?.();
  while (releases.length < 2) await new Promise((r) => setImmediate(r));
  releases.splice(0).forEach((release) => release());
  while (releases.length < 1 && running > 0) await new Promise((r) => setImmediate(r));
  releases.splice(0).forEach((release) => release());
  assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done']);
  assert.equal(peak, 2);
});
