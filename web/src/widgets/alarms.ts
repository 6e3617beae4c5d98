/** Alarm list: open alarms of one device or of the whole tenant, newest first, refreshed live. */
import { get, query, type Alarm, type Page, type Widget } from '../api.js';
import { badge, debounce, h, replaceChildren, timeEl } from '../dom.js';
import { live } from '../live.js';
import { errorText, type WidgetHandle } from './feed.js';

const LIMIT = 20;

export function alarmsWidget(w: Widget): WidgetHandle {
  const list = h('ul', { class: 'widget-alarms' });
  const note = h('p', { class: 'hint', role: 'status' });
  const el = h('div', { class: 'widget-body' }, list, note);
  let disposed = false;
  async function load(): Promise<void> {
    try {
      const page = await get<Page<Alarm>>(`/api/alarms${query({ deviceId: w.deviceId, status: 'active,acknowledged', limit: LIMIT })}`);
      if (disposed) return;
      replaceChildren(
        list,
        page.items.map((a) =>
          h(
            'li',
            { 'data-alarm-id': a.id },
            badge(a.severity, `sev-${a.severity}`),
            ' ',
            h('a', { href: `#/devices/${encodeURIComponent(a.deviceId)}` }, a.type),
            ' ',
            badge(a.status, `st-${a.status}`),
            ' ',
            timeEl(a.updatedAt),
          ),
        ),
      );
      note.textContent = page.total === 0 ? 'No open alarms.' : page.total > LIMIT ? `${LIMIT} of ${page.total} shown.` : '';
    } catch (err) {
      note.textContent = errorText(err);
    }
  }
  const reload = debounce(() => void load(), 300);
  const off = live.subscribe({ type: 'alarms', ...(w.deviceId ? { deviceId: w.deviceId } : {}) }, () => reload(), () => (el.dataset.live = 'ready'));
  void load();
  return {
    el,
    dispose: () => {
      disposed = true;
      off();
    },
  };
}
