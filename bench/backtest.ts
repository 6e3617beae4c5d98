/**
 * Backtest latency over a week of stored history for one device (the target: < 2 s).
 *
 *   node --import tsx bench/backtest.ts [--interval-s 60] [--days 7] [--runs 5]
 *
 * A SQLite store in a temp directory holds one device with three keys (temperature, humidity,
 * batteryLevel), one reading of each every `interval-s` seconds for `days` days, written before
 * timing starts. The rule reads a 10-minute window, a message-count window, an attribute and a
 * "for" duration, and renders templated actions, so every part of the step is exercised:
 *
 *   avg(temperature, "10m") > 28 && min(humidity, 5) < 45 && !attr("maintenance")   for 15m
 *
 * Each run is a full RuleService.backtest (store reads included), from fresh rule state. The
 * last line of output is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '../src/adapters/store/sqlite/index.js';
import { DEFAULT_TENANT_ID } from '../src/domain/device.js';
import type { Logger, TelemetryRow } from '../src/ports.js';
import { RegistryService } from '../src/services/registry.js';
import { ActionCatalog, RuleService } from '../src/services/rules/index.js';

const { values: args } = parseArgs({ options: { 'interval-s': { type: 'string' }, days: { type: 'string' }, runs: { type: 'string' } } });
const intervalMs = Number(args['interval-s'] ?? 60) * 1000;
const days = Number(args.days ?? 7);
const runs = Number(args.runs ?? 5);
if (!(intervalMs > 0) || !(days > 0) || !(runs > 0)) throw new Error('--interval-s, --days and --runs must be positive');

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'continuum-backtest-'));
const store = createSqliteStore({ file: join(dir, 'continuum.db'), synchronous: 'NORMAL' });
try {
  const clock = { now: () => Date.now() };
  const registry = new RegistryService({ store, clock, logger: silent, codecNames: ['json'] });
  await registry.init();
  const { device } = await registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'bench-greenhouse' });

  const to = Math.floor(Date.now() / 60_000) * 60_000;
  const from = to - days * 86_400_000;
  const readings = Math.floor((to - from) / intervalMs);
  let batch: TelemetryRow[] = [];
  const t0 = performance.now();
  for (let i = 0; i < readings; i++) {
    const ts = from + i * intervalMs;
    const hour = (ts / 3_600_000) % 24;
    // Warm, dry afternoons: the rule fires most days and clears at night.
    const temperature = Math.round((22 + 10 * Math.sin(((hour - 9) / 24) * 2 * Math.PI)) * 10) / 10;
    const humidity = Math.round((55 - 15 * Math.sin(((hour - 9) / 24) * 2 * Math.PI)) * 10) / 10;
    batch.push(
      { deviceId: device.id, key: 'temperature', ts, value: temperature },
      { deviceId: device.id, key: 'humidity', ts, value: humidity },
      { deviceId: device.id, key: 'batteryLevel', ts, value: 100 - (i / readings) * 40 },
    );
    if (batch.length >= 30_000) {
      await store.appendTelemetry(batch);
      batch = [];
    }
  }
  await store.appendTelemetry(batch);
  const writeMs = performance.now() - t0;

  const service = new RuleService({ store, registry, catalog: new ActionCatalog(), clock });
  const rule = await service.create(DEFAULT_TENANT_ID, {
    name: 'Hot and dry',
    deviceId: device.id,
    enabled: false,
    trigger: 'telemetry',
    condition: 'avg(temperature, "10m") > 28 && min(humidity, 5) < 45 && !attr("maintenance")',
    for: '15m',
    actions: [
      { type: 'alarm', alarmType: 'HotAndDry', severity: 'warning', details: { avg: '${round(avg(temperature, "10m"), 1)}' } },
      { type: 'command', method: 'setVents', params: { open: true, note: '${deviceName}: ${temperature} °C' } },
    ],
  });

  const times: number[] = [];
  let last;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    last = await service.backtest(DEFAULT_TENANT_ID, rule.id, { from, to });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const result = {
    bench: 'backtest',
    days,
    intervalS: intervalMs / 1000,
    rowsStored: readings * 3,
    messagesReplayed: last?.messages,
    evaluated: last?.evaluated,
    fired: last?.fired.length,
    writeMs: Math.round(writeMs),
    backtestMs: { min: Math.round(times[0] ?? 0), median: Math.round(times[Math.floor(times.length / 2)] ?? 0), max: Math.round(times[times.length - 1] ?? 0) },
    targetMs: 2000,
  };
  console.log(`${days} days at ${intervalMs / 1000} s: ${result.messagesReplayed} messages, ${result.fired} firings; backtest median ${result.backtestMs.median} ms (min ${result.backtestMs.min}, max ${result.backtestMs.max}) over ${runs} runs`);
  console.log(JSON.stringify(result));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
