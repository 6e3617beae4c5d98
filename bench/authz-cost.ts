/**
 * What authorization adds to each device message on the ingest path (issue 15), as a share of
 * what the platform spends on the message in all.
 *
 *   node --import tsx bench/authz-cost.ts [--messages 2000000] [--rounds 7] [--ingest-json FILE[,FILE…]]
 *     [--commit-messages 32] [--json out.json]
 *
 * The numerator is measured in-process on the real code, in CPU time (so the time neighbours hold
 * the core is not counted): per
 * message, everything the tenants work put on the path of a device message —
 *   - the tenant-status check (TenantStatusCache.check: HTTP runs it per request, MQTT/CoAP per
 *     connect; counted per message here, the worst case),
 *   - the quota admission (QuotaService.admit: token bucket for messages/s + points/day check),
 *     with BOTH limits set so every branch runs,
 *   - the points counter after the commit (QuotaService.committed, counted per message here
 *     though the platform calls it once per commit and tenant),
 *   - the device's tenant on its identity (one property read; nothing to measure).
 * The denominator is the platform's server CPU per message in the QoS 1 ingest scenario
 * (`bench/run.ts ingest --quick`: stored, alarm rule on): CPU-seconds / messages. It is run here
 * unless `--ingest-json` names the JSON of such a run. The cheapest round of the denominator is
 * used (the one least inflated by neighbours), so the reported share is an upper bound.
 * Rounds alternate; medians are reported; the last line is JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { QuotaServiceDeps } from '../src/services/quotas.js';
import { QuotaService } from '../src/services/quotas.js';
import { TenantStatusCache } from '../src/services/tenant-status.js';

const { values: args } = parseArgs({
  options: { messages: { type: 'string' }, rounds: { type: 'string' }, 'ingest-json': { type: 'string' }, 'commit-messages': { type: 'string' }, json: { type: 'string' } },
});
const messages = Number(args.messages ?? 2_000_000);
const rounds = Number(args.rounds ?? 7);
const TENANTS = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'];
const POINTS_PER_MESSAGE = 3;
/** Messages per group commit for the 'as called' figure (the ingest scenario commits hundreds at window 32; a low figure). */
const COMMIT_MESSAGES = Number(args['commit-messages'] ?? 32);

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silent };

function quotaService(): QuotaService {
  // Limits high enough never to refuse, set so that every check of admit() runs.
  const deps: QuotaServiceDeps = {
    store: {} as QuotaServiceDeps['store'],
    clock: { now: () => Date.now() },
    logger: silent as unknown as QuotaServiceDeps['logger'],
    defaults: { maxMessagesPerSecond: 1e12, maxPointsPerDay: 1e15 },
  };
  return new QuotaService(deps);
}

/**
 * ns per message of the authorization steps, over `messages` messages spread over 4 tenants;
 * `commitEvery` messages share one points count (1: worst case, every message counted alone).
 */
function authzNsPerMessage(commitEvery: number): number {
  const quotas = quotaService();
  const status = new TenantStatusCache({ listTenants: () => Promise.resolve([]) });
  status.set('tenant-z', 'suspended');
  const started = cpuNs();
  for (let i = 0; i < messages; i++) {
    const tenant = TENANTS[i & 3]!;
    status.check(tenant, 'device');
    quotas.admit(tenant, true);
    if (i % commitEvery === 0) quotas.committed(tenant, POINTS_PER_MESSAGE * commitEvery);
  }
  return (cpuNs() - started) / messages;
}

/** This thread's CPU time (user + system) in ns: unlike wall time, it does not count the time neighbours held the core. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** The same loop without the calls: what the loop itself costs (subtracted). */
function loopNsPerMessage(): number {
  let sink = 0;
  const started = cpuNs();
  for (let i = 0; i < messages; i++) sink += TENANTS[i & 3]!.length;
  const ns = (cpuNs() - started) / messages;
  if (sink < 0) console.log(sink);
  return ns;
}

interface IngestJson {
  platform?: { msgs_per_s?: number; cpu_pct?: number };
}

/** Server CPU µs per message of one ingest run: cpu_pct is % of one core over the measured window. */
function ingestCpuUsPerMessage(file: string): number {
  const r = JSON.parse(readFileSync(file, 'utf8')) as IngestJson;
  const msgs = r.platform?.msgs_per_s;
  const cpu = r.platform?.cpu_pct;
  if (!msgs || !cpu) throw new Error(`${file}: no platform.msgs_per_s / cpu_pct`);
  return ((cpu / 100) * 1e6) / msgs;
}

function runIngest(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'continuum-authz-')), 'ingest.json');
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'ingest', '--quick', '--json', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) throw new Error(`ingest run failed (exit ${res.status})`);
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

authzNsPerMessage(1); // warm-up: let the JIT settle before measuring
const authz: number[] = [];
const batched: number[] = [];
const loop: number[] = [];
for (let r = 0; r < rounds; r++) {
  authz.push(authzNsPerMessage(1));
  batched.push(authzNsPerMessage(COMMIT_MESSAGES));
  loop.push(loopNsPerMessage());
}
const authzNs = Math.max(0, median(authz) - median(loop));
const batchedNs = Math.max(0, median(batched) - median(loop));
console.log(`authorization steps: ${authzNs.toFixed(1)} ns per message, every step per message (rounds ${authz.map((x) => x.toFixed(1)).join(', ')} ns; loop ${median(loop).toFixed(1)} ns)`);
console.log(`  as the platform calls them (points counted once per commit of ${COMMIT_MESSAGES} messages): ${batchedNs.toFixed(1)} ns`);

const ingestFiles = args['ingest-json'] ? args['ingest-json'].split(',') : [runIngest()];
const perMessageUs = Math.min(...ingestFiles.map(ingestCpuUsPerMessage));
const share = authzNs / 1000 / perMessageUs;
console.log(`platform server CPU per message (ingest, QoS 1, stored, alarm rule): ${perMessageUs.toFixed(1)} µs`);
const shareAsCalled = batchedNs / 1000 / perMessageUs;
console.log(`authorization share of the per-message cost: ${(share * 100).toFixed(3)} % worst case, ${(shareAsCalled * 100).toFixed(3)} % as called (goal < 3 %)`);
const r1 = (x: number): number => Math.round(x * 10) / 10;
const result = {
  scenario: 'authz-cost',
  messages,
  rounds,
  authz_ns_per_message: r1(authzNs),
  authz_ns_per_message_as_called: r1(batchedNs),
  commit_messages: COMMIT_MESSAGES,
  platform_cpu_us_per_message: r1(perMessageUs),
  share_pct: Math.round(share * 1e5) / 1e3,
  share_pct_as_called: Math.round(shareAsCalled * 1e5) / 1e3,
};
if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
