/**
 * What a payload decode costs through the PayloadDecoders adapter: QuickJS on the main thread
 * (QuickJsDecoders, the old path) against QuickJS on worker threads (WorkerQuickJsDecoders, what
 * the platform runs), for a typical 10-byte sensor decoder.
 *
 *   node --import tsx bench/decoder-cost.ts [--seconds 3] [--rounds 2] [--inflight 64]
 *
 * Modes: one message at a time (each decode awaited: a lone device, latency-bound), and
 * `inflight` decodes outstanding at once (ingest under load: the worker pool batches them).
 * Besides msgs/s it reports the main thread's busy time per message (event loop utilization):
 * what decoding takes away from everything else the platform does. Each mode runs `seconds` per round; rounds alternate the modes so a noisy neighbour on a shared
 * machine hits them alike; the best round is reported. The last line is JSON.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { QuickJsDecoders } from '../src/adapters/decoders/quickjs/quickjs-decoders.js';
import { WorkerQuickJsDecoders } from '../src/adapters/decoders/quickjs/worker-decoders.js';
import type { PayloadDecoders } from '../src/ports/payload-decoders.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, inflight: { type: 'string' } } });
const seconds = Number(args.seconds ?? 3);
const rounds = Number(args.rounds ?? 2);
const inflight = Number(args.inflight ?? 64);

// A typical LoRaWAN-style sensor frame: temperature, humidity, pressure, battery, flags.
const SOURCE = `
function decodeUplink(input) {
  var b = input.bytes;
  var t = (b[0] << 8) | b[1]; if (t & 0x8000) t -= 0x10000;
  return {
    data: {
      temperature: t / 100,
      humidity: b[2] / 2,
      pressure: ((b[3] << 16) | (b[4] << 8) | b[5]) / 100,
      battery: ((b[6] << 8) | b[7]) / 1000,
      door: (b[8] & 1) === 1,
      counter: b[9]
    },
    warnings: []
  };
}`;
const decoder = { profileId: 'bench', source: SOURCE };
const frame = (i: number): number[] => [0x08, 0x34, 0x5a, 0x01, 0x8a, 0x9c, 0x0e, 0x10, i & 1, i & 0xff];

interface Rate {
  /** Messages per second. */
  readonly rate: number;
  /** Time the main thread's event loop was busy, per message (what the platform's other work loses). */
  readonly mainUs: number;
}

/** Runs `body` until it returns, with the messages it counted, measuring the event loop's busy time. */
async function measured(body: (end: number) => Promise<number>): Promise<Rate> {
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const n = await body(started + seconds * 1000);
  const wall = performance.now() - started;
  const busy = performance.eventLoopUtilization(elu);
  return { rate: (n * 1000) / wall, mainUs: (busy.active * 1000) / n };
}

function sequential(d: PayloadDecoders): Promise<Rate> {
  return measured(async (end) => {
    let n = 0;
    while (performance.now() < end) {
      for (let k = 0; k < 50; k++) await d.decode(decoder, { bytes: frame(n++) });
    }
    return n;
  });
}

function pipelined(d: PayloadDecoders): Promise<Rate> {
  return measured(async (end) => {
    let n = 0;
    const lane = async (): Promise<void> => {
      while (performance.now() < end) await d.decode(decoder, { bytes: frame(n++) });
    };
    await Promise.all(Array.from({ length: inflight }, lane));
    return n;
  });
}

const main = new QuickJsDecoders();
const workers1 = new WorkerQuickJsDecoders({ workers: 1 });
const workers2 = new WorkerQuickJsDecoders({ workers: 2 });
const modes: [string, () => Promise<Rate>][] = [
  ['main thread, one at a time', () => sequential(main)],
  [`main thread, ${inflight} in flight`, () => pipelined(main)],
  ['1 worker, one at a time', () => sequential(workers1)],
  [`1 worker, ${inflight} in flight`, () => pipelined(workers1)],
  [`2 workers, ${inflight} in flight`, () => pipelined(workers2)],
];
// Compiled and warm everywhere before measuring (worker start-up is not per-message cost).
for (const d of [main, workers1, workers2]) await Promise.all(Array.from({ length: 4 }, (_, i) => d.decode(decoder, { bytes: frame(i) })));

const best = new Map<string, Rate>();
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of modes) {
    const got = await fn();
    if (got.rate > (best.get(name)?.rate ?? 0)) best.set(name, got);
  }
}
const cpus = process.cpuUsage();
for (const [name, r] of best) {
  console.log(`${name.padEnd(32)} ${Math.round(r.rate).toString().padStart(8)} msgs/s  ${(1e6 / r.rate).toFixed(1).padStart(7)} µs/msg  main thread busy ${r.mainUs.toFixed(1).padStart(6)} µs/msg`);
}
console.log(`process CPU ${(cpus.user / 1e6).toFixed(1)} s user, ${(cpus.system / 1e6).toFixed(1)} s system`);
console.log(JSON.stringify(Object.fromEntries([...best].map(([k, v]) => [k, { msgsPerSecond: Math.round(v.rate), mainThreadUsPerMsg: Number(v.mainUs.toFixed(1)) }]))));
main.close();
workers1.close();
workers2.close();
