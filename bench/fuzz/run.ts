/**
 * The fuzz campaign from the command line:
 *   node --expose-gc --import tsx bench/fuzz/run.ts [--cases N] [--seed S] [--lanes L] [--hostile] [--json FILE]
 * (also `npm run bench -- fuzz`). Prints a table per surface and writes the JSON result
 * (default bench/results/fuzz.json). Exit code 1 when any property failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { printCampaign, runCampaign } from './campaign.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1050000' },
    seed: { type: 'string' },
    lanes: { type: 'string', default: '12' },
    hostile: { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench/results/fuzz.json' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const started = performance.now();
const result = await runCampaign({
  cases: Number(values.cases),
  seed,
  hostile: values.hostile,
  lanes: Number(values.lanes),
  log: (m) => console.log(`[fuzz ${((performance.now() - started) / 1000).toFixed(0)}s] ${m}`),
});
printCampaign(result);
mkdirSync(dirname(values.json), { recursive: true });
writeFileSync(values.json, JSON.stringify({ scenario: 'fuzz', date: new Date().toISOString(), node: process.version, ...result }, null, 2) + '\n');
console.log(`wrote ${values.json}`);
process.exit(result.ok ? 0 : 1);
