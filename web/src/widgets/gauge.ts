/** Gauge: a half-circle SVG arc filled from min to max by the latest value of the first key. */
import type { Widget } from '../api.js';
import { formatValue, h } from '../dom.js';
import { errorText, latestFeed, numeric, type WidgetHandle } from './feed.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// The arc from (10,60) to (110,60) over the top, radius 50; pathLength 100 makes the fill a percentage.
const ARC = 'M 10 60 A 50 50 0 0 1 110 60';

export function gaugeWidget(w: Widget): WidgetHandle {
  const key = w.keys?.[0];
  const min = w.min ?? 0;
  const max = w.max ?? 100;
  const box = svg('svg', { viewBox: '0 0 120 70', class: 'gauge', role: 'img' });
  const fill = svg('path', { d: ARC, pathLength: '100', class: 'gauge-fill', 'stroke-dasharray': '0 100' });
  box.append(svg('path', { d: ARC, pathLength: '100', class: 'gauge-track' }), fill);
  const readout = h('output', { class: 'big-value gauge-value', 'data-key': key ?? '' }, '—');
  const note = h('p', { class: 'hint', role: 'status' }, `${formatValue(min)} – ${formatValue(max)}${w.unit ? ` ${w.unit}` : ''}`);
  const el = h('div', { class: 'widget-body gauge-box' }, box as unknown as HTMLElement, readout, note);
  box.setAttribute('aria-label', `${key ?? 'value'}: no value yet`);
  if (!w.deviceId || !key) {
    note.textContent = 'Choose a device and a key.';
    return { el, dispose: () => undefined };
  }
  const off = latestFeed(el, w.deviceId, [key], (_k, point) => {
    const v = numeric(point.value);
    readout.textContent = v === null ? formatValue(point.value) : `${formatValue(v)}${w.unit ? ` ${w.unit}` : ''}`;
    const pct = v === null ? 0 : Math.max(0, Math.min(100, ((v - min) / (max - min)) * 100));
    fill.setAttribute('stroke-dasharray', `${pct} 100`);
    box.setAttribute('aria-label', `${key}: ${readout.textContent}`);
  }, (err) => (note.textContent = errorText(err)));
  return { el, dispose: off };
}
