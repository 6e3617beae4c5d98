/** Table widget: the latest value of each listed key (every key the device reports when none), with its age; live. */
import type { TsValue, Widget } from '../api.js';
import { formatValue, h, replaceChildren, timeEl, uniqueId } from '../dom.js';
import { errorText, latestFeed, type WidgetHandle } from './feed.js';

export function tableWidget(w: Widget): WidgetHandle {
  const keys = w.keys ?? [];
  const tbody = h('tbody');
  const captionId = uniqueId('wt');
  const note = h('p', { class: 'hint', role: 'status' });
  // A long table scrolls inside the widget: focusable, so the keyboard can scroll it too.
  const el = h(
    'div',
    { class: 'widget-body', tabindex: '0', role: 'group', 'aria-labelledby': captionId },
    h('table', { class: 'data widget-table' }, h('caption', { id: captionId, class: 'visually-hidden' }, `${w.title}: latest values`), h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'When'))), tbody),
    note,
  );
  const rows = new Map<string, { value: HTMLElement; time: HTMLElement }>();
  function row(key: string): { value: HTMLElement; time: HTMLElement } {
    let r = rows.get(key);
    if (!r) {
      r = { value: h('output', { 'data-key': key }, '—'), time: h('span', { class: 'hint' }) };
      rows.set(key, r);
      // Keys arrive in any order: keep them sorted by name (or in the widget's order when listed).
      const order = keys.length ? keys : [...rows.keys()].sort();
      const tr = h('tr', { 'data-key': key }, h('th', { scope: 'row' }, key), h('td', null, r.value, w.unit ? h('span', { class: 'unit' }, ` ${w.unit}`) : null), h('td', null, r.time));
      const next = [...tbody.children].find((c) => order.indexOf((c as HTMLElement).dataset.key ?? '') > order.indexOf(key));
      tbody.insertBefore(tr, next ?? null);
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
    replaceChildren(r.time, timeEl(point.ts));
  }, (err) => (note.textContent = errorText(err)));
  return { el, dispose: off };
}
