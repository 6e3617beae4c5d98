/** Alarms: filter by status and severity, acknowledge and clear, refreshed live. */
import { get, post, query, type Alarm, type Device, type Page } from '../api.js';
import { badge, debounce, field, h, refreshTimes, replaceChildren, select, timeEl } from '../dom.js';
import { live, readiness } from '../live.js';
import type { View } from '../main.js';

const names = new Map<string, Promise<string>>();
function deviceName(id: string): Promise<string> {
  let name = names.get(id);
  if (!name) {
    name = get<Device>(`/api/devices/${encodeURIComponent(id)}`)
      .then((d) => d.name)
      .catch(() => id);
    names.set(id, name);
  }
  return name;
}

/** A table of alarms with Acknowledge/Clear buttons; `withDevice` adds a device column. */
export function alarmTable(alarms: readonly Alarm[], opts: { withDevice?: boolean; onChange: () => void; onError: (message: string) => void }): HTMLTableElement {
  const act = (alarm: Alarm, what: 'ack' | 'clear', button: HTMLButtonElement): void => {
    button.disabled = true;
    post(`/api/alarms/${encodeURIComponent(alarm.id)}/${what}`)
      .then(() => opts.onChange())
      .catch((err: unknown) => {
        button.disabled = false;
        opts.onError(err instanceof Error ? err.message : String(err));
      });
  };
  const headers = [...(opts.withDevice ? ['Device'] : []), 'Type', 'Severity', 'Status', 'Raised', 'Count', 'Actions'];
  return h(
    'table',
    { class: 'data responsive alarms' },
    h('caption', { class: 'visually-hidden' }, 'Alarms'),
    h('thead', null, h('tr', null, headers.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      null,
      alarms.map((a) => {
        const deviceCell = opts.withDevice ? h('td', { 'data-label': 'Device' }, h('a', { href: `#/devices/${encodeURIComponent(a.deviceId)}` }, a.deviceId)) : null;
        if (deviceCell) {
          void deviceName(a.deviceId).then((n) => {
            const link = deviceCell.querySelector('a');
            if (link) link.textContent = n;
          });
        }
        const ack: HTMLButtonElement = h('button', { type: 'button', 'aria-label': `Acknowledge ${a.type}`, onclick: () => act(a, 'ack', ack) }, 'Acknowledge');
        const clear: HTMLButtonElement = h('button', { type: 'button', 'aria-label': `Clear ${a.type}`, onclick: () => act(a, 'clear', clear) }, 'Clear');
        return h(
          'tr',
          { 'data-alarm-id': a.id, 'data-status': a.status },
          deviceCell,
          h('td', { 'data-label': 'Type' }, a.type),
          h('td', { 'data-label': 'Severity' }, badge(a.severity, `sev-${a.severity}`)),
          h('td', { 'data-label': 'Status', class: 'alarm-status' }, badge(a.status, `st-${a.status}`)),
          h('td', { 'data-label': 'Raised' }, timeEl(a.createdAt)),
          h('td', { 'data-label': 'Count' }, String(a.count)),
          h('td', { 'data-label': 'Actions', class: 'actions' }, a.status === 'active' ? ack : null, a.status !== 'cleared' ? clear : null),
        );
      }),
    ),
  );
}

const STATUSES = [
  ['active,acknowledged', 'Open'],
  ['active', 'Active'],
  ['acknowledged', 'Acknowledged'],
  ['cleared', 'Cleared'],
  ['', 'Any'],
] as const;
const SEVERITIES = [
  ['', 'Any'],
  ['critical', 'Critical'],
  ['major', 'Major'],
  ['minor', 'Minor'],
  ['warning', 'Warning'],
  ['indeterminate', 'Indeterminate'],
] as const;
const LIMIT = 50;

export function alarmsPage(): View {
  let offset = 0;
  let seq = 0;
  const statusSelect = select(STATUSES, 'active,acknowledged', { id: 'alarm-status' });
  const severitySelect = select(SEVERITIES, '', { id: 'alarm-severity' });
  const box = h('div', { class: 'table-wrap' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const summary = h('p', { class: 'counts', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', onclick: () => go(Math.max(0, offset - LIMIT)) }, 'Previous');
  const next = h('button', { type: 'button', onclick: () => go(offset + LIMIT) }, 'Next');
  const pageInfo = h('span', { class: 'page-info' });

  async function load(): Promise<void> {
    const mine = ++seq;
    error.textContent = '';
    try {
      const page = await get<Page<Alarm>>(`/api/alarms${query({ status: statusSelect.value || undefined, severity: severitySelect.value || undefined, limit: LIMIT, offset })}`);
      if (mine !== seq) return;
      summary.textContent = `${page.total} alarm${page.total === 1 ? '' : 's'}`;
      replaceChildren(box, page.items.length ? alarmTable(page.items, { withDevice: true, onChange: () => void load(), onError: (m) => (error.textContent = m) }) : h('p', { class: 'hint' }, 'No alarms match.'));
      pageInfo.textContent = page.total ? `${offset + 1}–${offset + page.items.length} of ${page.total}` : '';
      prev.disabled = offset === 0;
      next.disabled = offset + LIMIT >= page.total;
    } catch (err) {
      if (mine === seq) error.textContent = err instanceof Error ? err.message : String(err);
    }
  }
  function go(o: number): void {
    offset = o;
    void load();
  }
  statusSelect.addEventListener('change', () => go(0));
  severitySelect.addEventListener('change', () => go(0));
  const reload = debounce(() => void load(), 200);
  const off = live.subscribe({ type: 'alarms' }, () => reload(), () => ready());
  const clock = setInterval(() => refreshTimes(box), 15_000);

  const el = h(
    'section',
    { class: 'page alarms-page' },
    h('h1', null, 'Alarms'),
    summary,
    h('form', { class: 'toolbar', onsubmit: (e: Event) => e.preventDefault() }, field('Status', statusSelect), field('Severity', severitySelect)),
    error,
    box,
    h('div', { class: 'pager' }, prev, pageInfo, next),
  );
  const ready = readiness(el, 1);
  void load();
  return {
    title: 'Alarms',
    el,
    dispose: () => {
      off();
      clearInterval(clock);
    },
  };
}
