/** What a scenario returns (the --json object) and how run.ts prints it. */

export interface Measured {
  msgs_per_s: number | null;
  points_per_s: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  cpu_pct: number | null;
  rss_mb: number | null;
  acked: number | null;
  stored: number | null;
  [extra: string]: unknown;
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** null: not measured in this run (e.g. not applicable in --quick). */
  readonly met: boolean | null;
}

export interface ScenarioResult {
  scenario: string;
  quick: boolean;
  platform: Measured;
  reference: { name: string; msgs_per_s: number | null; [extra: string]: unknown };
  /** platform ÷ reference on the scenario's headline figure. */
  ratio: number | null;
  targets: TargetCheck[];
  /** Printed rows: [what, platform, reference]. */
  table: [string, string, string][];
  notes: string[];
  [extra: string]: unknown;
}

export function emptyMeasured(): Measured {
  return { msgs_per_s: null, points_per_s: null, p50_ms: null, p99_ms: null, cpu_pct: null, rss_mb: null, acked: null, stored: null };
}

/** Rounds to 3 significant digits (numbers in the JSON stay readable). */
export function r3(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return Number(v.toFixed(Math.min(digits, 6)));
}

export function fmt(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const n = Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : String(r3(v));
  return unit ? `${n} ${unit}` : n;
}

export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : r3(a / b);
}

export function printResult(r: ScenarioResult): void {
  const rows: [string, string, string][] = [['', 'platform', r.reference.name], ...r.table];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const lines = [`\n== ${r.scenario}${r.quick ? ' (quick)' : ''} ==`];
  for (const [a, b, c] of rows) lines.push(`  ${a.padEnd(w0)}  ${b.padStart(w1)}   ${c}`);
  lines.push(`  ratio platform/reference: ${r.ratio ?? '–'}`);
  for (const t of r.targets) lines.push(`  [${t.met === null ? ' ' : t.met ? 'x' : '!'}] ${t.target}: ${t.measured}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  console.log(lines.join('\n'));
}
