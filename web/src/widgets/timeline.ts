/**
 * State timeline widget: a key's states over the widget's range (default 24 h) as coloured bands
 * on one track — "on" from 08:00 to 09:30, "off" after — with a legend giving each state's share
 * of the time, and the current state. Reads the raw points once (up to 10,000, oldest first),
 * then follows the live feed; the track is redrawn every minute as "now" moves on.
 * Values are device text: they are shown as text, and colours are assigned by order of appearance.
 */
import { get, query, type TsValue, type Widget } from '../api.js';
import { formatValue, h, replaceChildren } from '../dom.js';
import { live } from '../live.js';
import { rangeMs } from './chart.js';
import { errorText, type WidgetHandle } from './feed.js';

const PALETTE = ['#0b57d0', '#0a7d32', '#b3261e', '#8a5a00', '#6b3fa0', '#00696b', '#5f6368', '#c2185b'];
const LIMIT = 10_000;

interface Segment {
  state: string;
  from: number;
}

export function timelineWidget(w: Widget): WidgetHandle {
  const key = w.keys?.[0];
  const track = h('div', { class: 'timeline-track', role: 'img' });
  const legend = h('ul', { class: 'timeline-legend' });
  const current = h('output', { class: 'timeline-now' }, '—');
  const note = h('p', { class: 'hint', role: 'status' });
  // Many states make a long legend that scrolls inside the widget: focusable, so the keyboard can scroll it too.
  const el = h('div', { class: 'widget-body', tabindex: '0', role: 'group', 'aria-label': `${w.title}: states over time` }, h('p', { class: 'timeline-current' }, 'Now: ', current), track, legend, note);
  if (!w.deviceId || !key) {
    note.textContent = 'Choose a device and a key.';
    return { el, dispose: () => undefined };
  }
  current.dataset.key = key;
  const deviceId = w.deviceId;
  const span = rangeMs(w.range);
  const colours = new Map<string, string>();
  const colour = (state: string): string => {
    let c = colours.get(state);
    if (!c) {
      c = PALETTE[colours.size % PALETTE.length] as string;
      colours.set(state, c);
    }
    return c;
  };
  const segments: Segment[] = [];
  let lastTs = -Infinity;
  const push = (p: TsValue): void => {
    if (p.ts < lastTs) return;
    lastTs = p.ts;
    const state = formatValue(p.value);
    if (segments.at(-1)?.state !== state) segments.push({ state, from: p.ts });
  };

  function draw(): void {
    const to = Date.now();
    const from = to - span;
    const visible = segments.filter((s, i) => (segments[i + 1]?.from ?? to) > from);
    const share = new Map<string, number>();
    const bands = visible.map((s, i) => {
      const start = Math.max(s.from, from);
      const end = Math.min(visible[i + 1]?.from ?? to, to);
      share.set(s.state, (share.get(s.state) ?? 0) + (end - start));
      const band = h('span', { class: 'timeline-band', 'data-state': s.state, title: `${s.state}: ${new Date(start).toLocaleString()} – ${new Date(end).toLocaleString()}` });
      // Positions through the CSSOM (the page's CSP allows no inline style attributes).
      band.style.left = `${((start - from) / span) * 100}%`;
      band.style.width = `${Math.max(0.2, ((end - start) / span) * 100)}%`;
      band.style.backgroundColor = colour(s.state);
      return band;
    });
    replaceChildren(track, ...bands);
    const parts = [...share].map(([state, ms]) => `${state} ${Math.round((ms / span) * 100)}%`);
    track.setAttribute('aria-label', parts.length ? `${key}: ${parts.join(', ')} of the range` : `${key}: no data in the range`);
    replaceChildren(
      legend,
      ...[...share].map(([state, ms]) => {
        const swatch = h('span', { class: 'timeline-swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = colour(state);
        return h('li', { 'data-state': state }, swatch, state, h('span', { class: 'hint' }, ` ${Math.round((ms / span) * 100)}%`));
      }),
    );
    current.textContent = segments.at(-1)?.state ?? '—';
    el.dataset.segments = String(visible.length);
    note.textContent = visible.length === 0 ? 'No data in this range.' : '';
  }

  let disposed = false;
  const to = Date.now();
  get<Record<string, TsValue[]>>(`/api/devices/${encodeURIComponent(deviceId)}/telemetry${query({ keys: key, from: to - span, to, limit: LIMIT, order: 'asc' })}`)
    .then((body) => {
      if (disposed) return;
      for (const p of body[key] ?? []) push(p);
      draw();
      el.dataset.ready = 'true';
    })
    .catch((err: unknown) => (note.textContent = errorText(err)));
  const off = live.subscribe({ type: 'telemetry', deviceId }, (m) => {
    const points = (m.data as Record<string, TsValue[]>)[key];
    if (!points?.length) return;
    for (const p of [...points].sort((a, b) => a.ts - b.ts)) push(p);
    draw();
  }, () => (el.dataset.live = 'ready'));
  const timer = setInterval(draw, 60_000);
  return {
    el,
    dispose: () => {
      disposed = true;
      clearInterval(timer);
      off();
    },
  };
}
