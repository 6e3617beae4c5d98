/**
 * Cost of decoding device JSON: the JSON codec plus point validation, the per-message work of
 * every JSON telemetry message before it joins a group commit.
 *
 *   node --import tsx bench/decode-json.ts [--messages N] [--runs N]
 *
 * Typical ThingsBoard telemetry, cycled: a flat object of 3 numbers, one with a string and a
 * boolean, the `{"ts","values"}` form, and one with a small nested object. Each run decodes N
 * messages (default 1,000,000) from prebuilt Buffers; the best run is reported (ns/message).
 * The last line of output is JSON.
 */
import { parseArgs } from 'node:util';
import { decodeJsonTelemetry } from '../src/protocols/json/telemetry.js';
import { DEFAULT_POINT_LIMITS, validatePoints } from '../src/domain/telemetry.js';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
const messages = Number(args.messages);
const runs = Number(args.runs);

const NOW = Date.now();
const payloads = [
  { temperature: 21.5, humidity: 48, pressure: 1013.2 },
  { voltage: 229.8, status: 'ok', door: false },
  { ts: NOW - 1000, values: { current: 4.12, energy: 1234567, power: 944.1 } },
  { gps: { lat: 52.52, lon: 13.405 }, speed: 12.5 },
].map((p) => Buffer.from(JSON.stringify(p)));

function run(): number {
  let points = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) {
    const decoded = decodeJsonTelemetry(payloads[i & 3] as Buffer, NOW);
    validatePoints(decoded, NOW, DEFAULT_POINT_LIMITS);
    points += decoded.length;
  }
  const ns = Number(process.hrtime.bigint() - started);
  if (points === 0) throw new Error('nothing decoded');
  return ns / messages;
}

const results: number[] = [];
for (let r = 0; r < runs; r++) {
  const nsPerMessage = run();
  results.push(nsPerMessage);
  console.log(`run ${r + 1}: ${nsPerMessage.toFixed(0)} ns/message`);
}
const best = Math.min(...results);
console.log(JSON.stringify({ bench: 'decode-json', messages, runs, bestNsPerMessage: Math.round(best), messagesPerSecond: Math.round(1e9 / best) }));
