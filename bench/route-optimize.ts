/**
 * Route optimisation against a known optimum: the platform's tour heuristic (domain/routes/
 * tour.ts: nearest neighbour from several starts + 2-opt + Or-opt) on TSPLIB's berlin52, whose
 * optimal tour is 7542 long, beside the reference measured in the same run: one nearest-
 * neighbour tour (the construction alone). Distances are TSPLIB's EUC_2D (Euclidean, rounded to
 * the nearest integer), so lengths compare with the published optimum exactly.
 *
 *   node --import tsx bench/route-optimize.ts [--file bench/fixtures/berlin52.tsp] [--optimum 7542] [--rounds 20]
 *
 * The instance is public data (TSPLIB 95); the fixture cites its source. The last line is JSON.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { matrixOf, shortTour, tourLength } from '../src/domain/routes/tour.js';

const { values: args } = parseArgs({ options: { file: { type: 'string' }, optimum: { type: 'string' }, rounds: { type: 'string' } } });
const file = args.file ?? new URL('./fixtures/berlin52.tsp', import.meta.url).pathname;
const optimum = Number(args.optimum ?? 7542);
const rounds = Number(args.rounds ?? 20);

/** NODE_COORD_SECTION lines `i x y` of a TSPLIB file. */
function coordinates(text: string): [number, number][] {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => l.trim() === 'NODE_COORD_SECTION');
  const out: [number, number][] = [];
  for (const line of lines.slice(from + 1)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3 || parts[0] === 'EOF') break;
    out.push([Number(parts[1]), Number(parts[2])]);
  }
  return out;
}

const pts = coordinates(readFileSync(file, 'utf8'));
// TSPLIB EUC_2D: nint(sqrt(dx² + dy²)).
const m = matrixOf(pts.length, (i, j) => Math.round(Math.hypot((pts[i] as [number, number])[0] - (pts[j] as [number, number])[0], (pts[i] as [number, number])[1] - (pts[j] as [number, number])[1])));

function nearestOnly(): number[] {
  const n = m.n;
  const used = new Uint8Array(n);
  const t = [0];
  used[0] = 1;
  for (let k = 1; k < n; k++) {
    const at = t[t.length - 1] as number;
    let best = -1;
    for (let j = 0; j < n; j++) if (!used[j] && (best < 0 || (m.d[at * n + j] as number) < (m.d[at * n + best] as number))) best = j;
    used[best] = 1;
    t.push(best);
  }
  return t;
}

function timed(fn: () => number[]): { length: number; ms: number } {
  const times: number[] = [];
  let length = 0;
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint();
    const t = fn();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    length = tourLength(m, t);
    if (new Set(t).size !== m.n) throw new Error('not a tour');
  }
  times.sort((a, b) => a - b);
  return { length, ms: times[Math.floor(times.length / 2)] as number };
}

const reference = timed(nearestOnly);
const ours = timed(() => shortTour(m));
const gap = (len: number): number => (len / optimum - 1) * 100;
console.log(`instance ${file.split('/').pop()} (${m.n} points), optimum ${optimum}`);
console.log(`nearest neighbour (reference): ${reference.length}, gap ${gap(reference.length).toFixed(2)} %, ${reference.ms.toFixed(3)} ms (median of ${rounds})`);
console.log(`NN×starts + 2-opt + Or-opt:    ${ours.length}, gap ${gap(ours.length).toFixed(2)} %, ${ours.ms.toFixed(3)} ms (median of ${rounds}); ${(ours.ms / reference.ms).toFixed(1)}× the reference's time`);
console.log(JSON.stringify({ scenario: 'route-optimize', instance: 'berlin52', n: m.n, optimum, length: ours.length, gapPercent: gap(ours.length), ms: ours.ms, reference: { length: reference.length, gapPercent: gap(reference.length), ms: reference.ms } }));
