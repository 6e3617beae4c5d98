/** Fleet: devices paged on the server (limit/offset), searched by name or label, status live. */
import { canWrite, get, query, type Device, type Page } from '../api.js';
import { openAddDevice } from './add-device.js';
import { badge, debounce, field, h, refreshTimes, replaceChildren, select, statusBadge, timeEl } from '../dom.js';
import { live, readiness } from '../live.js';
import type { View } from '../main.js';
import { DEVICES_CHANGED, fleetCounts, importPanel } from './import.js';

const PAGE_SIZES = [25, 50, 100] as const;

/** The empty fleet says how to get a device in, not only that there is none. */
function emptyHint(): HTMLElement {
  return h(
    'div',
    { class: 'empty-hint' },
    h('p', null, h('strong', null, 'No devices yet.')),
    canWrite()
      ? h('p', null, 'Press “Add device”: name it, and the wizard gives you a mosquitto_pub, coap-client or curl line with its token that sends a first message, and shows that message arrive. Many devices at once: “Import devices from CSV” below.')
      : h('p', null, 'An admin adds devices (Fleet → Add device, or the CLI: continuum device create NAME); they appear here as soon as they exist.'),
  );
}

export function fleetPage(): View {
  const params = new URLSearchParams(sessionStorage.getItem('continuum.fleet') ?? '');
  let search = params.get('search') ?? '';
  let limit = Number(params.get('limit')) || 25;
  let offset = Number(params.get('offset')) || 0;
  let profileId = params.get('profileId') ?? '';
  let rows = new Map<string, { device: Device; tr: HTMLTableRowElement }>();
  let total = 0;
  let loadSeq = 0;

  const searchInput = h('input', { type: 'search', id: 'device-search', value: search, placeholder: 'Name or label', autocomplete: 'off' });
  const profileSelect = select([['', 'All profiles']], '', { id: 'device-profile' });
  const sizeSelect = select(PAGE_SIZES.map((n) => [String(n), String(n)] as const), String(limit), { id: 'page-size' });
  const counts = h('p', { class: 'counts', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data responsive' },
    h('caption', { class: 'visually-hidden' }, 'Devices'),
    h('thead', null, h('tr', null, ['Name', 'Label', 'Status', 'Last activity', 'Transport'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  );
  const prev = h('button', { type: 'button', onclick: () => go(Math.max(0, offset - limit)) }, 'Previous');
  const next = h('button', { type: 'button', onclick: () => go(offset + limit) }, 'Next');
  const pageInfo = h('span', { class: 'page-info', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert' });

  const save = (): void => sessionStorage.setItem('continuum.fleet', new URLSearchParams({ search, profileId, limit: String(limit), offset: String(offset) }).toString());

  function row(d: Device): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-device-id': d.id },
      h('td', { 'data-label': 'Name' }, h('a', { href: `#/devices/${encodeURIComponent(d.id)}`, class: 'device-name' }, d.name)),
      h('td', { 'data-label': 'Label' }, d.label ?? ''),
      h('td', { 'data-label': 'Status', class: 'status-cell' }, statusBadge(d)),
      h('td', { 'data-label': 'Last activity', class: 'activity-cell' }, timeEl(d.lastActivity)),
      h('td', { 'data-label': 'Transport', class: 'transport-cell' }, d.transport ?? '—'),
    );
  }

  function renderCounts(): void {
    const online = [...rows.values()].filter((r) => r.device.online).length;
    const shown = rows.size;
    replaceChildren(
      counts,
      h('span', { class: 'count-total' }, `${total} device${total === 1 ? '' : 's'}${search ? ` matching “${search}”` : ''}${profileId ? ` in ${profileSelect.selectedOptions[0]?.textContent ?? 'the profile'}` : ''}`),
      shown > 0 ? h('span', null, ' · on this page: ', badge(`${online} online`, 'online'), ' ', badge(`${shown - online} offline`, 'offline')) : null,
    );
  }

  async function load(): Promise<void> {
    const seq = ++loadSeq;
    error.textContent = '';
    try {
      const page = await get<Page<Device>>(`/api/devices${query({ search: search || undefined, profileId: profileId || undefined, limit, offset })}`);
      if (seq !== loadSeq) return;
      if (page.items.length === 0 && offset > 0 && page.total > 0) {
        offset = Math.max(0, Math.floor((page.total - 1) / limit) * limit);
        return load();
      }
      total = page.total;
      rows = new Map(page.items.map((d) => [d.id, { device: d, tr: row(d) }]));
      replaceChildren(tbody, rows.size ? [...rows.values()].map((r) => r.tr) : h('tr', null, h('td', { colspan: 5, class: 'empty' }, search || profileId ? 'No device matches.' : emptyHint())));
      pageInfo.textContent = total ? `${offset + 1}–${offset + page.items.length} of ${total}` : '';
      prev.disabled = offset === 0;
      next.disabled = offset + limit >= total;
      renderCounts();
    } catch (err) {
      if (seq === loadSeq) error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function go(newOffset: number): void {
    offset = newOffset;
    save();
    void load();
  }

  const onSearch = debounce(() => {
    search = searchInput.value.trim();
    go(0);
  }, 250);
  searchInput.addEventListener('input', onSearch);
  profileSelect.addEventListener('change', () => {
    profileId = profileSelect.value;
    go(0);
  });
  get<{ items: { id: string; name: string }[] }>('/api/profiles')
    .then(({ items }) => {
      for (const p of [...items].sort((a, b) => a.name.localeCompare(b.name))) profileSelect.appendChild(h('option', { value: p.id }, p.name));
      profileSelect.value = items.some((p) => p.id === profileId) ? profileId : '';
    })
    .catch(() => undefined);
  sizeSelect.addEventListener('change', () => {
    limit = Number(sizeSelect.value);
    go(0);
  });

  const offStatus = live.subscribe({ type: 'status' }, (m) => {
    const r = rows.get(m.deviceId);
    if (!r) return;
    const s = m.data as { online?: boolean; lastActivity?: number; transport?: string; offlineReason?: string };
    r.device = { ...r.device, online: s.online ?? r.device.online, lastActivity: s.lastActivity ?? r.device.lastActivity, transport: s.transport ?? r.device.transport, offlineReason: s.offlineReason ?? null };
    const fresh = row(r.device);
    r.tr.replaceWith(fresh);
    r.tr = fresh;
    renderCounts();
  }, () => ready());
  const clock = setInterval(() => refreshTimes(tbody), 15_000);

  const addButton = canWrite() ? h('button', { type: 'button', class: 'primary', onclick: () => openAddDevice(() => void reload()) }, 'Add device') : null;
  const reload = (): Promise<void> => {
    window.dispatchEvent(new Event(DEVICES_CHANGED));
    return load();
  };

  const tenantCounts = fleetCounts();
  const el: HTMLElement = h(
    'section',
    { class: 'page fleet' },
    h('div', { class: 'page-head' }, h('h1', null, 'Devices'), addButton),
    tenantCounts.el,
    counts,
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e: Event) => e.preventDefault() }, field('Search devices', searchInput), field('Profile', profileSelect), field('Per page', sizeSelect)),
    error,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'pager' }, prev, pageInfo, next),
    importPanel(() => void load()),
  );
  const ready = readiness(el, 1);
  void load();
  return {
    title: 'Devices',
    el,
    dispose: () => {
      offStatus();
      tenantCounts.dispose();
      clearInterval(clock);
    },
  };
}
