/**
 * The fleet map: every device with a position as a circle coloured by status (alarm, online,
 * offline), moved live as positions arrive; a chosen device's track over 1 h/24 h/7 d; geofence
 * polygons from the `geofence` attribute. Under them the offline vector base map, or tiles when
 * the server sets web.tileUrl (map/base-map.ts decides for every map). The same devices are listed in a table for keyboard and screen
 * reader users.
 */
import { get, query, uiConfig, type Alarm, type Device, type Page, type TsValue } from '../api.js';
import { badge, debounce, field, formatValue, h, replaceChildren, select, timeEl } from '../dom.js';
import { live, readiness } from '../live.js';
import type { View } from '../main.js';
import type { FleetMap, Status } from '../map/fleet-map.js';
import { geofenceFromAttributes, POSITION_KEYS, positionFromAttributes, positionFromLatest, positionOf, trackOf, type Position } from '../map/positions.js';

/** The map loads positions one device at a time; beyond this many devices it shows the first ones. */
export const MAP_MAX_DEVICES = 500;
const CONCURRENCY = 6;
const TRACK_RANGES = [
  ['1h', '1 hour', 3_600_000],
  ['24h', '24 hours', 86_400_000],
  ['7d', '7 days', 7 * 86_400_000],
] as const;
type Scopes = Parameters<typeof positionFromAttributes>[0];

interface Pin {
  device: Device;
  position: Position;
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function mapPage(): View {
  const disposers: (() => void)[] = [];
  let disposed = false;
  const pins = new Map<string, Pin>();
  const devices = new Map<string, Device>();
  let alarmed = new Set<string>();
  let fleetMap: FleetMap | undefined;
  let tracked: string | undefined;

  const canvas = h('div', { class: 'map-canvas', role: 'region', 'aria-label': 'Device map' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' }, 'Loading devices…');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const listBody = h('tbody');
  const trackDevice = select([['', 'Choose a device']], '', { id: 'track-device' });
  const trackRange = select(TRACK_RANGES.map(([v, t]) => [v, t] as const), '24h', { id: 'track-range' });
  const trackNote = h('p', { class: 'hint', 'aria-live': 'polite' });
  const legend = h('ul', { class: 'map-legend', 'aria-label': 'Legend' }, (['online', 'offline', 'alarm'] as const).map((s) => h('li', null, h('span', { class: `dot dot-${s}`, 'aria-hidden': 'true' }), s)));

  const statusOf = (d: Device): Status => (alarmed.has(d.id) ? 'alarm' : d.online ? 'online' : 'offline');
  const statusBadge = (d: Device): HTMLElement => {
    const s = statusOf(d);
    return badge(s, s === 'alarm' ? 'bad' : s);
  };

  function popup(pin: Pin): HTMLElement {
    return h(
      'div',
      { class: 'map-popup' },
      h('a', { href: `#/devices/${encodeURIComponent(pin.device.id)}` }, pin.device.name),
      h('div', null, statusBadge(pin.device)),
      h('div', { class: 'hint' }, `${pin.position.lat.toFixed(5)}, ${pin.position.lon.toFixed(5)}`),
    );
  }

  function listRow(pin: Pin): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-device-id': pin.device.id },
      h('td', { 'data-label': 'Name' }, h('a', { href: `#/devices/${encodeURIComponent(pin.device.id)}` }, pin.device.name)),
      h('td', { 'data-label': 'Status' }, statusBadge(pin.device)),
      h('td', { 'data-label': 'Position' }, `${formatValue(pin.position.lat)}, ${formatValue(pin.position.lon)}`),
      h('td', { 'data-label': 'Reported' }, timeEl(pin.position.ts)),
      h('td', { 'data-label': 'Map' }, h('button', { type: 'button', onclick: () => fleetMap?.focus(pin.device.id) }, `Show ${pin.device.name}`)),
    );
  }

  const renderList = debounce(() => {
    const sorted = [...pins.values()].sort((a, b) => a.device.name.localeCompare(b.device.name));
    replaceChildren(listBody, sorted.length ? sorted.map(listRow) : h('tr', null, h('td', { colspan: 5, class: 'empty' }, 'No device has a position yet.')));
  }, 50);

  function draw(pin: Pin): void {
    fleetMap?.upsert(pin.device.id, pin.device.name, pin.position, statusOf(pin.device), () => popup(pin));
  }

  function place(device: Device, position: Position): void {
    const existing = pins.get(device.id);
    // A late answer must not move a marker back over a newer live position.
    if (existing?.position.ts != null && position.ts !== null && position.ts < existing.position.ts) return;
    const pin = existing ?? { device, position };
    pin.device = device;
    pin.position = position;
    pins.set(device.id, pin);
    draw(pin);
    renderList();
  }

  function restyleAll(): void {
    for (const pin of pins.values()) fleetMap?.restyle(pin.device.id, statusOf(pin.device));
    renderList();
  }

  async function loadOne(d: Device): Promise<void> {
    const id = encodeURIComponent(d.id);
    const [latest, attrs] = await Promise.all([
      get<Record<string, TsValue>>(`/api/devices/${id}/telemetry/latest${query({ keys: POSITION_KEYS.join(',') })}`),
      get<Scopes>(`/api/devices/${id}/attributes${query({ keys: [...POSITION_KEYS, 'geofence'].join(',') })}`),
    ]);
    if (disposed) return;
    const position = positionFromLatest(latest) ?? positionFromAttributes(attrs);
    if (position) place(devices.get(d.id) ?? d, position);
    const fence = geofenceFromAttributes(attrs);
    if (fence) fleetMap?.addFence(d.name, fence);
  }

  async function loadAlarms(): Promise<void> {
    const page = await get<Page<Alarm>>(`/api/alarms${query({ status: 'active', limit: 1000 })}`);
    alarmed = new Set(page.items.map((a) => a.deviceId));
    restyleAll();
  }

  async function start(): Promise<void> {
    // Leaflet is its own chunk: the rest of the dashboard does not wait for it.
    const [config, { FleetMap: MapClass }] = await Promise.all([uiConfig(), import('../map/fleet-map.js')]);
    if (disposed) return;
    fleetMap = new MapClass(canvas, config);
    disposers.push(() => fleetMap?.destroy());
    for (const pin of pins.values()) draw(pin);
    const page = await get<Page<Device>>(`/api/devices${query({ limit: MAP_MAX_DEVICES })}`);
    if (disposed) return;
    for (const d of page.items) {
      devices.set(d.id, d);
      trackDevice.appendChild(h('option', { value: d.id }, d.name));
    }
    await loadAlarms().catch(() => undefined);
    await eachLimited(page.items, CONCURRENCY, (d) => loadOne(d).catch(() => undefined));
    if (disposed) return;
    const capped = page.total > page.items.length ? ` (the first ${page.items.length} of ${page.total} devices)` : '';
    note.textContent = `${pins.size} of ${page.items.length} device${page.items.length === 1 ? '' : 's'} with a position${capped}.`;
    renderList();
    fleetMap.fit();
    el.dataset.loaded = 'true';
  }

  function clearTrack(): void {
    fleetMap?.clearTrack();
    tracked = undefined;
    trackNote.textContent = '';
  }

  async function showTrack(): Promise<void> {
    clearTrack();
    const deviceId = trackDevice.value;
    if (!deviceId) {
      trackNote.textContent = 'Choose a device to draw its track.';
      return;
    }
    const range = TRACK_RANGES.find(([v]) => v === trackRange.value) ?? TRACK_RANGES[1];
    const to = Date.now();
    trackNote.textContent = 'Loading…';
    try {
      const history = await get<Record<string, TsValue[]>>(
        `/api/devices/${encodeURIComponent(deviceId)}/telemetry${query({ keys: POSITION_KEYS.join(','), from: to - range[2], to, limit: 10_000, order: 'asc' })}`,
      );
      if (disposed) return;
      const points = trackOf(history);
      const name = devices.get(deviceId)?.name ?? deviceId;
      trackNote.textContent = `${points.length} position${points.length === 1 ? '' : 's'} of ${name} over ${range[1]}.`;
      fleetMap?.showTrack(points);
      tracked = deviceId;
    } catch (err) {
      trackNote.textContent = `Track failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  const ready = readiness(canvas, 3);
  const onAlarm = debounce(() => void loadAlarms().catch(() => undefined), 300);
  disposers.push(
    live.subscribe({ type: 'telemetry' }, (m) => {
      const data = m.data as Record<string, TsValue[]>;
      const newest: Record<string, { value: unknown; ts: number }> = {};
      for (const key of POSITION_KEYS) {
        const p = (data[key] ?? []).reduce<TsValue | undefined>((a, x) => (!a || x.ts >= a.ts ? x : a), undefined);
        if (p) newest[key] = { value: p.value, ts: p.ts };
      }
      const position = positionOf(newest);
      const device = devices.get(m.deviceId);
      if (!position || !device) return;
      place(device, position);
      if (tracked === m.deviceId) fleetMap?.extendTrack(position);
    }, ready),
    live.subscribe({ type: 'status' }, (m) => {
      const s = m.data as { online?: boolean };
      const device = devices.get(m.deviceId);
      if (!device || s.online === undefined) return;
      const updated = { ...device, online: s.online };
      devices.set(m.deviceId, updated);
      const pin = pins.get(m.deviceId);
      if (!pin) return;
      pin.device = updated;
      fleetMap?.restyle(m.deviceId, statusOf(updated));
      renderList();
    }, ready),
    live.subscribe({ type: 'alarms' }, () => onAlarm(), ready),
  );

  const el: HTMLElement = h(
    'section',
    { class: 'page map-page' },
    h('h1', null, 'Map'),
    note,
    error,
    h(
      'form',
      { class: 'toolbar', onsubmit: (e: Event) => (e.preventDefault(), void showTrack()) },
      field('Track of', trackDevice),
      field('Over', trackRange),
      h('button', { type: 'submit' }, 'Show track'),
      h('button', { type: 'button', onclick: clearTrack }, 'Clear track'),
    ),
    trackNote,
    legend,
    canvas,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'map-list-h' },
      h('h2', { id: 'map-list-h' }, 'Devices on the map'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive map-list' }, h('thead', null, h('tr', null, ['Name', 'Status', 'Position', 'Reported', 'Map'].map((c) => h('th', { scope: 'col' }, c)))), listBody)),
    ),
  );
  start().catch((err: unknown) => {
    error.textContent = err instanceof Error ? err.message : String(err);
  });
  return {
    title: 'Map',
    el,
    dispose: () => {
      disposed = true;
      for (const d of disposers) d();
    },
  };
}
