/** Value card: the latest value of each key, large, with its unit and age; updates live. */
import type { TsValue, Widget } from '../api.js';
import { formatValue, h, replaceChildren, timeEl } from '../dom.js';
import { errorText, latestFeed, type WidgetHandle } from './feed.js';

export function valueWidget(w: Widget): WidgetHandle {
  const keys = w.keys ?? [];
  const list = h('dl', { class: 'value-card' });
  const note = h('p', { class: 'hint', role: 'status' });
  const el = h('div', { class: 'widget-body' }, list, note);
  const rows = new Map<string, { value: HTMLElement; time: HTMLElement }>();
  function row(key: string): { value: HTMLElement; time: HTMLElement } {
    let r = rows.get(key);
    if (!r) {
      r = { value: h('output', { class: 'big-value', 'data-key': key }, '—'), time: h('span', { class: 'hint' }) };
      rows.set(key, r);
      list.append(h('dt', null, key), h('dd', null, r.value, w.unit ? h('span', { class: 'unit' }, ` ${w.unit}`) : null, ' ', r.time));
    }
    return r;
  }
  for (const key of keys) row(key);
  if (!w.deviceId) {
    note.textContent = 'No device chosen.';
    return { el, dispose: () => undefined };
  }
  const off = latestFeed(el, w.deviceId, keys, (key: string, point: TsValue) => {
    const r = row(key);
    r.value.textContent = formatValue(point.value);
    r.value.dataset.ts = String(point.ts);
    replaceChildren(r.time, timeEl(point.ts));
  }, (err) => (note.textContent = errorText(err)));
  return { el, dispose: off };
}
