/** QuotaService over the memory store with a fake clock: token bucket, daily points, creations, metrics. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { isPlatformError } from '../../src/domain/errors.js';
import type { QuotaKind } from '../../src/domain/quotas.js';
import type { Logger, QuotaMetrics } from '../../src/ports.js';
import { QuotaService } from '../../src/services/quotas.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function setup(defaults = {}) {
  const store = createMemoryStore();
  const clock = { t: Date.UTC(2026, 11, 7, 23, 59, 58), now() { return this.t; } };
  const rejected: string[] = [];
  const warnings: object[] = [];
  const logger: Logger = { ...silent, warn: (o) => void warnings.push(o), child: () => logger };
  const metrics: QuotaMetrics = { rejected: (t, q: QuotaKind) => void rejected.push(`${t}/${q}`), usage: () => undefined };
  const quotas = new QuotaService({ store, clock, logger, metrics, defaults, flushIntervalMs: 1e9 });
  return { store, clock, quotas, rejected, warnings };
}

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isPlatformError(err) ? err.code : 'other';
  }
};

describe('QuotaService', () => {
  it('messages/s: a token bucket per tenant that refills from the clock; other tenants unaffected', async () => {
    const { store, clock, quotas, rejected, warnings } = setup();
    await store.ensureTenant({ id: 'a', name: 'A' });
    await store.ensureTenant({ id: 'b', name: 'B' });
    await quotas.start();
    await quotas.set('a', { maxMessagesPerSecond: 3 });
    for (let i = 0; i < 3; i++) assert.equal(code(() => quotas.admit('a', true)), undefined);
    assert.equal(code(() => quotas.admit('a', true)), 'TENANT_RATE_LIMITED');
    assert.equal(code(() => quotas.admit('a', true)), 'TENANT_RATE_LIMITED');
    // platform-made points (rules) do not count against the rate
    assert.equal(code(() => quotas.admit('a', false)), undefined);
    for (let i = 0; i < 50; i++) assert.equal(code(() => quotas.admit('b', true)), undefined, 'tenant b has no limit');
    clock.t += 334; // one token back (3/s)
    assert.equal(code(() => quotas.admit('a', true)), undefined);
    assert.equal(code(() => quotas.admit('a', true)), 'TENANT_RATE_LIMITED');
    assert.deepEqual(rejected, ['a/messagesPerSecond', 'a/messagesPerSecond', 'a/messagesPerSecond']);
    assert.equal(warnings.length, 1, 'one warning line per tenant and quota a minute');
    await quotas.stop();
  });

  it('points/day: counted after commit, refused once reached, taken again the next UTC day; the count survives a restart', async () => {
    const { store, clock, quotas, rejected } = setup();
    await store.ensureTenant({ id: 'a', name: 'A' });
    await quotas.start();
    await quotas.set('a', { maxPointsPerDay: 10 });
    quotas.admit('a', true);
    quotas.committed('a', 6);
    quotas.admit('a', true);
    quotas.committed('a', 6);
    const refused = code(() => quotas.admit('a', true));
    assert.equal(refused, 'TENANT_QUOTA_EXCEEDED');
    assert.equal((await quotas.view('a')).usage.pointsToday, 12);
    await quotas.stop(); // writes the day's count
    const again = new QuotaService({ store, clock, logger: silent, flushIntervalMs: 1e9 });
    await again.start();
    assert.equal(code(() => again.admit('a', true)), 'TENANT_QUOTA_EXCEEDED', 'limits and the count are read back');
    clock.t += 2000; // past midnight UTC
    assert.equal(code(() => again.admit('a', true)), undefined);
    assert.equal((await again.view('a')).usage.pointsToday, 0);
    await again.stop();
    assert.deepEqual(rejected, ['a/pointsPerDay']);
  });

  it('devices and rules: at create, within the quota, serialized so concurrent creations cannot pass it together', async () => {
    const { store, quotas } = setup({ maxDevices: 2, maxRules: 0 });
    await store.ensureTenant({ id: 'a', name: 'A' });
    await quotas.start();
    // three concurrent creations through the registry's path: only two fit
    const results = await Promise.allSettled([0, 1, 2].map(() =>
      quotas.withDevices('a', 1, async () => {
        const n = (await store.listDevices({ tenantId: 'a', limit: 1, offset: 0 })).total;
        await insertDevice(store, `d${n}`);
      }),
    ));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.ok(isPlatformError((results[2] as PromiseRejectedResult).reason, 'TENANT_QUOTA_EXCEEDED'));
    await assert.rejects(quotas.withRule('a', async () => undefined), (err) => isPlatformError(err, 'TENANT_QUOTA_EXCEEDED'));
    const v = await quotas.view('a');
    assert.equal(v.custom, false);
    assert.deepEqual(v.limits, { maxDevices: 2, maxMessagesPerSecond: null, maxPointsPerDay: null, maxRules: 0 });
    assert.equal(v.usage.devices, 2);
    await assert.rejects(quotas.view('nope'), (err) => isPlatformError(err, 'NOT_FOUND'));
    await assert.rejects(quotas.set('nope', { maxDevices: 1 }), (err) => isPlatformError(err, 'NOT_FOUND'));
    await quotas.stop();
  });
});

async function insertDevice(store: ReturnType<typeof createMemoryStore>, name: string): Promise<void> {
  const { RegistryService } = await import('../../src/services/registry.js');
  const registry = new RegistryService({ store, clock: { now: () => Date.now() }, logger: silent, codecNames: ['json'] });
  await registry.createDevice({ tenantId: 'a', name });
}
