/**
 * Bar widget: one horizontal bar per key, its latest value between the widget's min and max
 * (default 0–100), live. A native <meter> (its value, bounds and label are what screen readers
 * read) with the number and unit beside it.
 */
import type { TsValue, Widget } from '../api.js';
import { formatValue, h, uniqueId } from '../dom.js';
import { errorText, latestFeed, numeric, type WidgetHandle } from './feed.js';

export function barWidget(w: Widget): WidgetHandle {
  const keys = w.keys ?? [];
  const [min, max] = [w.min ?? 0, w.max ?? 100];
  const list = h('div', { class: 'bar-list' });
  const note = h('p', { class: 'hint', role: 'status' });
  const el = h('div', { class: 'widget-body' }, list, note);
  const bars = new Map<string, { meter: HTMLMeterElement; value: HTMLElement }>();
  function bar(key: string): { meter: HTMLMeterElement; value: HTMLElement } {
    let b = bars.get(key);
    if (!b) {
      const id = uniqueId('bar');
      b = { meter: h('meter', { id, min, max, value: min }), value: h('output', { 'data-key': key, for: id }, '—') };
      bars.set(key, b);
      list.append(h('div', { class: 'bar-row' }, h('label', { for: id }, key), b.meter, h('span', { class: 'bar-value' }, b.value, w.unit ? ` ${w.unit}` : '')));
    }
    return b;
  }
  for (const key of keys) bar(key);
  if (!w.deviceId || keys.length === 0) {
    note.textContent = 'Choose a device and keys.';
    return { el, dispose: () => undefined };
  }
  const off = latestFeed(el, w.deviceId, keys, (key: string, point: TsValue) => {
    const b = bar(key);
    const v = numeric(point.value);
    b.value.textContent = formatValue(point.value);
    // A value outside the bounds fills the bar (or empties it); the number shows the real value.
    b.meter.value = v === null ? min : Math.min(max, Math.max(min, v));
  }, (err) => (note.textContent = errorText(err)));
  return { el, dispose: off };
}
