/**
 * `npm run bench -- fuzz [--quick] [--cases N] [--seed S]`: the fuzz campaign of bench/fuzz as a
 * bench scenario (1,200,000 cases; --quick 60,000), reported like the others.
 */
import { printCampaign, runCampaign } from '../fuzz/campaign.js';
import { emptyMeasured, type ScenarioResult } from '../lib/report.js';
import type { BenchContext } from './common.js';

export async function fuzz(ctx: BenchContext): Promise<ScenarioResult> {
  const cases = ctx.cases ?? (ctx.quick ? 60_000 : 1_200_000);
  const seed = ctx.seed ?? Math.floor(Math.random() * 2 ** 31);
  const r = await runCampaign({ cases, seed, hostile: false, lanes: 16, log: ctx.log });
  printCampaign(r);
  const failures = r.surfaces.reduce((a, s) => a + s.crashes + s.hangs + s.property_failures, 0);
  return {
    scenario: 'fuzz',
    quick: ctx.quick,
    platform: { ...emptyMeasured(), rss_mb: r.rss_mb.end, acked: r.honest.acked, stored: r.honest.stored },
    reference: { name: '–', msgs_per_s: null },
    ratio: null,
    targets: [
      { target: '≥ 1,000,000 cases', measured: r.total_cases.toLocaleString('en'), met: ctx.quick ? null : r.total_cases >= 1_000_000 },
      { target: 'no crash, no hang, no property failure', measured: String(failures + r.process_crashes.length), met: failures + r.process_crashes.length === 0 },
      { target: 'acked == stored (honest device)', measured: `${r.honest.acked} / ${r.honest.stored}`, met: r.honest.lost === 0 },
      { target: '/healthz answers after the run', measured: String(r.healthz_ok), met: r.healthz_ok },
    ],
    table: r.surfaces.map((s) => [s.surface, `${s.cases.toLocaleString('en')} cases`, `${s.crashes + s.hangs + s.property_failures} failed`]),
    notes: [`seed ${seed}`, `RSS ${r.rss_mb.start} → ${r.rss_mb.end} MB (peak ${r.rss_mb.peak})`],
    campaign: r,
  };
}
