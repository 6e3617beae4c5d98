/**
 * Top self-time functions of a V8 CPU profile (from `--cpu-prof`), so a bench note can say where
 * the time goes without opening DevTools:
 *   node --import tsx bench/profile-top.ts FILE.cpuprofile [N] [--by-file]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO } from './lib/platform.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time per function (`byFile`: per source file / native bucket), biggest first. */
export function topSelfTime(profile: CpuProfile, n: number, byFile = false): { name: string; ms: number; pct: number }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url ? `${relative(REPO, frame.url.replace(/^file:\/\//, ''))}:${frame.lineNumber + 1}` : '';
    const file = where.replace(/:\d+$/, '');
    const name = byFile ? file.replace(/^node_modules\/([^/]+)\/.*/, 'node_modules/$1') || frame.functionName || '(native)' : `${frame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: Math.round((ms / total) * 1000) / 10 }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-top.ts FILE.cpuprofile [N] [--by-file]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const n = Number(process.argv.slice(3).find((a) => /^\d+$/.test(a)) ?? 30);
  for (const row of topSelfTime(profile, n, process.argv.includes('--by-file'))) console.log(`${String(row.pct).padStart(5)} %  ${String(row.ms).padStart(7)} ms  ${row.name}`);
}
