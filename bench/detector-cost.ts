/**
 * The per-message cost of a detector in a rule against the same rule with a window average:
 * the engine's hot step for one telemetry message (feedWindows + evaluateRule, as
 * RuleEngine.runTelemetry does per rule), nothing else.
 *
 *   node --import tsx bench/detector-cost.ts [--messages 200000] [--rounds 5]
 *
 * Rules, each on a fresh state, fed the same vibration series one message a second:
 *   avg(vibration, 20) > 5        20-sample window (kept samples, summed per evaluation)
 *   avg(vibration, "10m") > 5     10-minute window (600 samples here)
 *   zscore(vibration, 20) > 5     detector, 7 numbers of state
 *   surprise(vibration) > 5       detector, 10 numbers of state
 *   cusum(vibration, 0.5, 5)      detector, 10 numbers of state
 * Rounds alternate the rules so a noisy neighbour on a shared machine hits them alike; the median
 * round is reported. The last line is JSON.
 */
import { parseArgs } from 'node:util';
import { compileRule } from '../src/domain/rules/compile.js';
import { evaluateRule, feedWindows, type Lookups } from '../src/domain/rules/runtime.js';
import { initialState } from '../src/domain/rules/state.js';

const { values: args } = parseArgs({ options: { messages: { type: 'string' }, rounds: { type: 'string' } } });
const messages = Number(args.messages ?? 200_000);
const rounds = Number(args.rounds ?? 5);

const CONDITIONS = ['avg(vibration, 20) > 5', 'avg(vibration, "10m") > 5', 'zscore(vibration, 20) > 5', 'surprise(vibration) > 5', 'cusum(vibration, 0.5, 5)'];
const lookups: Lookups = { latest: () => undefined, attr: () => undefined };
const device = { id: 'd', name: 'd' };
const T0 = Date.UTC(2026, 0, 1);
const series = Array.from({ length: messages }, (_, i) => ({ ts: T0 + i * 1000, values: { vibration: 1 + 0.1 * Math.sin(i * 0.37) + 0.05 * Math.sin(i * 2.1) } }));

function nsPerMessage(condition: string): number {
  const compiled = compileRule({ id: 'r', tenantId: 't', name: 'r', enabled: true, trigger: 'telemetry', condition, actions: [], createdAt: 0, updatedAt: 0 });
  const state = initialState();
  let fired = 0;
  const started = process.hrtime.bigint();
  for (const message of series) {
    feedWindows(compiled, state, message);
    if (evaluateRule(compiled, state, device, message, lookups).edge) fired++;
  }
  const ns = Number(process.hrtime.bigint() - started) / messages;
  if (fired < 0) console.log(fired); // keeps the loop's result observable
  return ns;
}

for (const c of CONDITIONS) nsPerMessage(c); // warm-up
const samples = new Map<string, number[]>(CONDITIONS.map((c) => [c, []]));
for (let r = 0; r < rounds; r++) for (const c of r % 2 === 0 ? CONDITIONS : [...CONDITIONS].reverse()) samples.get(c)?.push(nsPerMessage(c));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const result = Object.fromEntries(CONDITIONS.map((c) => [c, Math.round(median(samples.get(c) ?? []))]));
for (const [c, ns] of Object.entries(result)) console.log(`${c.padEnd(30)} ${String(ns).padStart(6)} ns per message`);
console.log(JSON.stringify({ scenario: 'detector-cost', messages, rounds, nsPerMessage: result }));
