/**
 * The backtest panel of the rules editor: POST /api/rules/{id}/backtest over a chosen range, then
 * the key the rule reads against time with a marker at every instant the rule would have fired.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { get, post, query, type BacktestResult, type Device, type Page, type Rule, type TsValue } from '../api.js';
import { field, h, replaceChildren, select, uniqueId } from '../dom.js';

const RANGES = [
  ['1h', '1 hour', 3_600_000],
  ['24h', '24 hours', 86_400_000],
  ['7d', '7 days', 7 * 86_400_000],
  ['30d', '30 days', 30 * 86_400_000],
] as const;

/** Bare identifiers of the condition that are not functions or keywords: the keys it reads. */
export function keysOf(condition: string): string[] {
  const stripped = condition.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ');
  const out = new Set<string>();
  for (const m of stripped.matchAll(/\b[A-Za-z_][\w.]*(?=\s*(\()?)/g)) {
    if (m[1] || ['true', 'false', 'null', 'and', 'or', 'not', 'in'].includes(m[0])) continue;
    out.add(m[0]);
  }
  return [...out];
}

function numeric(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

export function backtestPanel(rule: Rule, onEnable: (() => void) | undefined): { el: HTMLElement; destroy(): void } {
  let plot: uPlot | undefined;
  const keys = keysOf(rule.condition);
  const keyInput = h('input', { id: uniqueId('bt-key'), value: keys[0] ?? '', autocomplete: 'off', list: `${rule.id}-keys` });
  const keyList = h('datalist', { id: `${rule.id}-keys` }, keys.map((k) => h('option', { value: k })));
  const rangeSelect = select(RANGES.map(([v, t]) => [v, t] as const), '24h', { id: uniqueId('bt-range') });
  const summary = h('p', { class: 'backtest-summary', 'aria-live': 'polite' });
  const chartBox = h('div', { class: 'chart backtest-chart' });
  const enableBox = h('div');
  const run = h('button', { type: 'submit', class: 'primary' }, 'Run backtest');

  async function chartDevice(result: BacktestResult): Promise<string | undefined> {
    if (rule.deviceId) return rule.deviceId;
    const fired = result.fired.find((f) => f.edge === 'raise') ?? result.fired[0];
    if (fired) return fired.deviceId;
    const page = await get<Page<Device>>(`/api/devices${query({ limit: 1, ...(rule.profileId ? { profileId: rule.profileId } : {}) })}`);
    return page.items[0]?.id;
  }

  async function go(): Promise<void> {
    const range = RANGES.find(([v]) => v === rangeSelect.value) ?? RANGES[1];
    const to = Date.now();
    const from = to - range[2];
    run.disabled = true;
    summary.textContent = 'Running…';
    try {
      const result = await post<BacktestResult>(`/api/rules/${encodeURIComponent(rule.id)}/backtest`, { from, to });
      const raised = result.fired.filter((f) => f.edge === 'raise');
      const devicesFired = new Set(raised.map((f) => f.deviceId)).size;
      summary.textContent =
        `Would have fired ${raised.length} time${raised.length === 1 ? '' : 's'} on ${devicesFired} device${devicesFired === 1 ? '' : 's'} ` +
        `over ${range[1]} (${result.messages} message${result.messages === 1 ? '' : 's'} from ${result.devices} device${result.devices === 1 ? '' : 's'} evaluated` +
        `${result.errorCount ? `, ${result.errorCount} evaluation errors` : ''}${result.truncated ? ', truncated' : ''}).`;
      const key = keyInput.value.trim();
      const deviceId = key ? await chartDevice(result) : undefined;
      const series = deviceId
        ? ((await get<Record<string, TsValue[]>>(`/api/devices/${encodeURIComponent(deviceId)}/telemetry${query({ keys: key, from, to, limit: 10_000, order: 'asc' })}`))[key] ?? [])
        : [];
      draw(key || 'value', series, raised.filter((f) => f.deviceId === deviceId || !deviceId).map((f) => f.ts), from, to);
      if (onEnable && !rule.enabled) replaceChildren(enableBox, h('button', { type: 'button', class: 'primary', onclick: onEnable }, 'Enable rule'));
    } catch (err) {
      summary.textContent = `Backtest failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      run.disabled = false;
    }
  }

  function draw(label: string, points: readonly TsValue[], fired: readonly number[], from: number, to: number): void {
    // One x axis for both series: the key's points and the firing instants (y taken from the nearest earlier point).
    const values = points.map((p) => ({ ts: p.ts, v: numeric(p.value) })).filter((p) => p.v !== null) as { ts: number; v: number }[];
    const xs = [...new Set([...values.map((p) => p.ts), ...fired])].sort((a, b) => a - b);
    const byTs = new Map(values.map((p) => [p.ts, p.v]));
    const firedSet = new Set(fired);
    let last: number | null = null;
    const line: (number | null)[] = [];
    const marks: (number | null)[] = [];
    for (const ts of xs) {
      const v = byTs.get(ts);
      if (v !== undefined) last = v;
      line.push(v ?? null);
      marks.push(firedSet.has(ts) ? (v ?? last ?? 0) : null);
    }
    plot?.destroy();
    const width = Math.max(240, Math.floor(chartBox.clientWidth || 600));
    plot = new uPlot(
      {
        width,
        height: 240,
        scales: { x: { time: true, range: () => [from / 1000, to / 1000] } },
        legend: { live: false },
        series: [
          {},
          { label, stroke: '#0b57d0', width: 1.5, spanGaps: true, points: { show: values.length < 200 } },
          { label: 'would fire', stroke: '#c5221f', width: 0, paths: () => null, points: { show: true, size: 10, fill: '#c5221f' } },
        ],
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 60 }],
      },
      [xs.map((t) => t / 1000), line, marks],
      chartBox,
    );
    chartBox.dataset.fired = String(fired.length);
  }

  const el = h(
    'section',
    { class: 'card backtest', 'aria-label': 'Backtest' },
    h('h3', null, 'Backtest'),
    h('p', { class: 'hint' }, 'Replays stored telemetry through the saved rule without running its actions.'),
    h('form', { class: 'toolbar', onsubmit: (e: Event) => (e.preventDefault(), void go()) }, field('Key to chart', keyInput), keyList, field('Backtest range', rangeSelect), run),
    summary,
    chartBox,
    enableBox,
  );
  return { el, destroy: () => plot?.destroy() };
}
