/**
 * Chart widget: the first key over the widget's range (default 24 h), aggregated the way the
 * device page does (raw up to 6 h, then 1 min / 1 h / 1 day averages), raw mode appending live.
 */
import { get, query, type TsValue, type Widget } from '../api.js';
import { autoInterval, Chart, RAW_LIMIT } from '../chart.js';
import { h } from '../dom.js';
import { live } from '../live.js';
import { errorText, numeric, type WidgetHandle } from './feed.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m", "24h", "7d" → ms; anything else is 24 h. */
export function rangeMs(range: string | undefined): number {
  const m = /^(\d{1,4})([mhd])$/.exec(range ?? '');
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : 86_400_000;
}

export function chartWidget(w: Widget): WidgetHandle {
  const key = w.keys?.[0];
  const box = h('div', { class: 'chart widget-chart' });
  const note = h('p', { class: 'hint', role: 'status' });
  const el = h('div', { class: 'widget-body' }, box, note);
  if (!w.deviceId || !key) {
    note.textContent = 'Choose a device and a key.';
    return { el, dispose: () => undefined };
  }
  const deviceId = w.deviceId;
  const chart = new Chart(box);
  const span = rangeMs(w.range);
  const interval = autoInterval(span);
  let disposed = false;
  const to = Date.now();
  // Buckets on whole minutes/hours/days (UTC); hour-aligned requests use the store's roll-ups.
  const from = interval ? Math.floor((to - span) / interval) * interval : to - span;
  const path = interval
    ? `/api/devices/${encodeURIComponent(deviceId)}/telemetry${query({ keys: key, from, to, interval, agg: 'avg' })}`
    : `/api/devices/${encodeURIComponent(deviceId)}/telemetry${query({ keys: key, from, to, limit: RAW_LIMIT, order: 'desc' })}`;
  get<Record<string, TsValue[]>>(path)
    .then(async (body) => {
      if (disposed) return;
      let points = (body[key] ?? []).map((p) => ({ ts: p.ts, value: numeric(p.value) }));
      if (!interval) points = points.reverse();
      await chart.set(w.unit ? `${key} (${w.unit})` : key, points, from, to);
      if (disposed) return;
      el.dataset.ready = 'true';
      note.textContent = points.length === 0 ? 'No data in this range.' : '';
    })
    .catch((err: unknown) => (note.textContent = errorText(err)));
  // Aggregated buckets are not redrawn per point: a new bucket appears on the next load.
  const off = interval
    ? () => undefined
    : live.subscribe({ type: 'telemetry', deviceId }, (m) => {
        for (const p of (m.data as Record<string, TsValue[]>)[key] ?? []) {
          const v = numeric(p.value);
          if (v !== null) chart.append(p.ts, v, Date.now() - span);
        }
      }, () => (el.dataset.live = 'ready'));
  return {
    el,
    dispose: () => {
      disposed = true;
      off();
      chart.destroy();
    },
  };
}
