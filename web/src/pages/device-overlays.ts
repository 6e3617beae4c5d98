/**
 * The overlays of a device chart (chart-overlays.ts), read for one key over the range shown: the
 * forecast (the `forecast.<key>` series the forecast job writes, else the forecast API's next
 * 24 hours), the hour-of-week baseline band and the key's anomaly marks. Each part is optional: a
 * read that fails or finds nothing leaves that overlay out, never the chart.
 */
import { get, query, type Alarm, type Page, type TsValue } from '../api.js';
import { baselineBand, type AnomalyMark, type BandPoint, type ChartOverlays } from '../chart-overlays.js';

const HOUR = 3_600_000;
/** The baseline band is hourly: beyond a month it would be a solid smear. */
const MAX_BASELINE_RANGE = 31 * 24 * HOUR;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

async function forecastOverlay(id: string, key: string, keys: ReadonlySet<string>, from: number, to: number): Promise<BandPoint[]> {
  const fk = `forecast.${key}`;
  if (keys.has(fk)) {
    // The job's series: past hours keep the forecast made for them, so it reads against what came.
    const names = [fk, `${fk}.lower`, `${fk}.upper`];
    const body = await get<Record<string, TsValue[]>>(`/api/devices/${id}/telemetry${query({ keys: names.join(','), from, to: to + 25 * HOUR, limit: 2000, order: 'asc' })}`);
    const lower = new Map((body[`${fk}.lower`] ?? []).map((p) => [p.ts, num(p.value)]));
    const upper = new Map((body[`${fk}.upper`] ?? []).map((p) => [p.ts, num(p.value)]));
    return (body[fk] ?? []).flatMap((p) => {
      const value = num(p.value);
      if (value === null) return [];
      return [{ ts: p.ts, value, lower: lower.get(p.ts) ?? value, upper: upper.get(p.ts) ?? value }];
    });
  }
  const f = await get<{ points: BandPoint[] }>(`/api/devices/${id}/forecast${query({ key, horizon: '24h' })}`);
  return f.points;
}

/** Does a detector call (its text, e.g. "zscore(load, 300)") read `key`? */
function callReads(call: unknown, key: string): boolean {
  if (typeof call !== 'string') return false;
  const open = call.indexOf('(');
  if (open < 0) return false;
  return call.slice(open + 1).split(/[,)]/)[0]?.trim() === key;
}

function markOf(a: Alarm, key: string): AnomalyMark | undefined {
  const d = a.details;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return undefined;
  const details = d as Record<string, unknown>;
  const calls = Array.isArray(details.detectors) ? (details.detectors as unknown[]) : [details];
  const hit = calls.find((c): c is Record<string, unknown> => !!c && typeof c === 'object' && callReads((c as Record<string, unknown>).detector, key));
  if (!hit) return undefined;
  const score = num(hit.score);
  const rule = typeof details.rule === 'string' ? ` · rule ${details.rule}` : '';
  const when = new Date(a.createdAt).toLocaleString();
  return { ts: a.createdAt, title: `${a.type}: ${String(hit.detector)} score ${score === null ? '—' : score.toFixed(2)}${rule} · ${when}` };
}

async function anomalyMarks(deviceId: string, key: string, from: number, to: number): Promise<AnomalyMark[]> {
  const page = await get<Page<Alarm>>(`/api/alarms${query({ deviceId, from, to, limit: 200 })}`);
  return page.items.flatMap((a) => {
    const m = markOf(a, key);
    return m ? [m] : [];
  });
}

export async function loadOverlays(deviceId: string, key: string, keys: ReadonlySet<string>, from: number, to: number): Promise<ChartOverlays> {
  if (key.startsWith('forecast.')) return {};
  const id = encodeURIComponent(deviceId);
  const [forecast, baseline, marks] = await Promise.all([
    forecastOverlay(id, key, keys, from, to).catch(() => []),
    to - from <= MAX_BASELINE_RANGE
      ? get<{ expected: (number | null)[]; sigma: number; samples: number }>(`/api/devices/${id}/baseline${query({ key })}`).catch(() => undefined)
      : Promise.resolve(undefined),
    anomalyMarks(deviceId, key, from, to).catch(() => []),
  ]);
  const end = forecast.length > 0 ? Math.max(to, (forecast[forecast.length - 1] as BandPoint).ts) : to;
  return {
    ...(forecast.length > 0 ? { forecast } : {}),
    ...(baseline && baseline.samples > 0 ? { baseline: baselineBand(baseline, from, end) } : {}),
    ...(marks.length > 0 ? { marks } : {}),
  };
}
