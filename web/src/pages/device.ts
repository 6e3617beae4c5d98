/**
 * One device: latest values (live over /api/ws), a chart of one key with range and aggregation,
 * attributes (shared ones editable), commands with their state live, and the device's alarms.
 */
import { ApiError, canOperate, get, post, query, type Alarm, type Command, type Device, type Page, type TsValue } from '../api.js';
import { AGGREGATIONS, autoInterval, Chart, describePoints, RANGES, RAW_LIMIT } from '../chart.js';
import { badge, field, formatValue, h, refreshTimes, replaceChildren, select, statusBadge, timeEl, uniqueId } from '../dom.js';
import { live, readiness } from '../live.js';
import type { View } from '../main.js';
import { alarmTable } from './alarms.js';
import { latestValues } from './device-latest.js';
import { getProfile } from '../api.js';
import { controlView } from '../widgets/control.js';
import { firmwareSection } from './device-firmware.js';
import { tripsSection } from './device-trips.js';
import { credentialsSection } from './credentials.js';
import { firstChart, type FirstChart } from './device-first-chart.js';
import { loadOverlays } from './device-overlays.js';
import { manageSection } from './device-manage.js';

const FINAL = new Set(['SUCCESSFUL', 'FAILED', 'TIMEOUT', 'EXPIRED']);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function commandKind(status: string): string {
  if (status === 'SUCCESSFUL') return 'ok';
  if (FINAL.has(status)) return 'bad';
  return 'pending';
}

function numeric(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

export function devicePage(deviceId: string): View {
  const id = encodeURIComponent(deviceId);
  const disposers: (() => void)[] = [];
  let disposed = false;

  const heading = h('h1', { tabindex: '-1' }, 'Device');
  const meta = h('p', { class: 'meta', 'aria-live': 'polite' });
  const pageError = h('p', { class: 'form-error', role: 'alert' });

  // ---- latest values (device-latest.ts); a new key joins the chart's key list
  const latestCard = latestValues((key) => {
    if (!keySelect.querySelector(`option[value="${CSS.escape(key)}"]`)) keySelect.appendChild(h('option', { value: key }, key));
  });
  const { el: latest, show: showLatest, unitOf } = latestCard;

  // ---- chart
  const keySelect = h('select', { id: uniqueId('key') });
  // Fitted to the key's history before the first read (fitRange); 1 h while there is none.
  const rangeSelect = select(RANGES.map(([v, t]) => [v, t] as const), '1h', { id: uniqueId('range') });
  let rangeChosen = false;
  rangeSelect.addEventListener('change', () => (rangeChosen = true));
  /** The key's history decides the range the page opens on, until the user picks one (device-first-chart.ts). */
  async function fitChartRange(key: string): Promise<FirstChart['year']> {
    if (rangeChosen) return undefined;
    const first = await firstChart(id, key);
    if (rangeChosen) return undefined;
    rangeSelect.value = first.range;
    return first.year;
  }
  const aggSelect = select(AGGREGATIONS, 'auto', { id: uniqueId('agg') });
  const chartBox = h('div', { class: 'chart' });
  const chartNote = h('p', { class: 'hint', 'aria-live': 'polite' });
  const chart = new Chart(chartBox);
  disposers.push(() => chart.destroy());
  let chartMode: { key: string; raw: boolean; from: number } | undefined;
  let chartSeq = 0;
  /** `first`: the year already read when the page opens on a year (device-first-chart.ts). */
  async function loadChart(first?: FirstChart['year']): Promise<void> {
    const key = keySelect.value;
    if (!key) {
      chartNote.textContent = 'No telemetry yet.';
      if (!el.dataset.chart) performance.mark('continuum:device-chart');
      el.dataset.chart = 'empty';
      return;
    }
    const seq = ++chartSeq;
    const range = RANGES.find(([v]) => v === rangeSelect.value) ?? RANGES[0];
    const choice = aggSelect.value;
    const read = first?.key === key && range[0] === '1y' && choice === 'auto' ? first : undefined;
    const to = read?.to ?? Date.now();
    const interval = read?.interval ?? (choice === 'auto' ? autoInterval(range[2]) : choice === 'raw' ? undefined : Number(choice));
    // Buckets on whole minutes/hours/days (UTC), as users read a chart; the store answers
    // hour-aligned requests from its hourly roll-ups.
    const from = read?.from ?? (interval ? Math.floor((to - range[2]) / interval) * interval : to - range[2]);
    chartNote.textContent = 'Loading…';
    const started = read?.started ?? performance.now();
    try {
      const path = interval
        ? `/api/devices/${id}/telemetry${query({ keys: key, from, to, interval, agg: 'avg' })}`
        : `/api/devices/${id}/telemetry${query({ keys: key, from, to, limit: RAW_LIMIT, order: 'desc' })}`;
      const body = read?.body ?? (await get<Record<string, TsValue[]>>(path));
      if (seq !== chartSeq || disposed) return;
      let points = (body[key] ?? []).map((p) => ({ ts: p.ts, value: numeric(p.value) }));
      if (!interval) points = points.reverse();
      const label = unitOf(key) ? `${key} (${unitOf(key)})` : key;
      // Waits for uPlot's chunk on a cold start (fetched since the page was made, beside the reads).
      await chart.set(label, points, from, to);
      if (seq !== chartSeq || disposed) return;
      // The first-render benchmark (bench/dashboard-render.ts) waits for this mark.
      performance.mark('continuum:device-chart');
      el.dataset.chart = 'ready';
      // Forecast, baseline band and anomaly marks come after the history is drawn, never before it.
      el.dataset.overlays = 'loading';
      const keys = new Set([...keySelect.options].map((o) => o.value));
      void loadOverlays(deviceId, key, keys, from, to).then(async (overlays) => {
        if (seq !== chartSeq || disposed) return;
        if (Object.keys(overlays).length > 0) await chart.set(label, points, from, to, overlays);
        el.dataset.overlays = Object.keys(overlays).sort().join(' ') || 'none';
      });
      chartMode = { key, raw: !interval, from };
      const n = points.length;
      const capped = !interval && n >= RAW_LIMIT ? ` (newest ${RAW_LIMIT.toLocaleString('en')})` : '';
      chartNote.textContent = `${describePoints(n, interval)}${capped} over ${range[1]} · ${Math.round(performance.now() - started)} ms`;
    } catch (err) {
      if (seq === chartSeq) chartNote.textContent = `Chart failed: ${errorText(err)}`;
    }
  }
  for (const s of [rangeSelect, aggSelect]) s.addEventListener('change', () => void loadChart());
  keySelect.addEventListener('change', () => void fitChartRange(keySelect.value).then(loadChart));
  const chartSection = h(
    'section',
    { class: 'card', 'aria-labelledby': 'chart-h' },
    h('h2', { id: 'chart-h' }, 'History'),
    h('div', { class: 'toolbar' }, field('Key', keySelect), field('Range', rangeSelect), field('Aggregation', aggSelect)),
    chartBox,
    chartNote,
  );

  // ---- attributes
  const attrBox = h('div');
  const attrError = h('p', { class: 'form-error', role: 'alert' });
  const newKey = h('input', { id: uniqueId('attr-key'), required: true, autocomplete: 'off' });
  const newValue = h('input', { id: uniqueId('attr-value'), required: true, autocomplete: 'off' });
  type Scopes = Partial<Record<'client' | 'shared' | 'server', Record<string, { value: unknown; lastUpdateTs: number }>>>;
  function parseJsonish(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  async function saveShared(key: string, raw: string): Promise<void> {
    attrError.textContent = '';
    try {
      await post(`/api/devices/${id}/attributes/shared`, { [key]: parseJsonish(raw) });
      await loadAttributes();
    } catch (err) {
      attrError.textContent = errorText(err);
    }
  }
  async function loadAttributes(): Promise<void> {
    const scopes = await get<Scopes>(`/api/devices/${id}/attributes`);
    if (disposed) return;
    const blocks = (['shared', 'client', 'server'] as const).map((scope) => {
      const entries = Object.entries(scopes[scope] ?? {}).sort(([a], [b]) => a.localeCompare(b));
      const title = scope === 'shared' ? 'Shared (desired, pushed to the device)' : scope === 'client' ? 'Client (reported by the device)' : 'Server';
      return h(
        'div',
        { class: 'attr-scope' },
        h('h3', null, title),
        entries.length === 0
          ? h('p', { class: 'hint' }, 'None.')
          : h(
              'table',
              { class: 'data' },
              h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'), scope === 'shared' && canOperate() ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Save')) : null)),
              h(
                'tbody',
                null,
                entries.map(([key, entry]) => {
                  if (scope !== 'shared' || !canOperate()) return h('tr', null, h('th', { scope: 'row' }, key), h('td', null, formatValue(entry.value)));
                  const input = h('input', { id: uniqueId('shared'), value: typeof entry.value === 'string' ? entry.value : JSON.stringify(entry.value), 'aria-label': `Value of ${key}` });
                  return h(
                    'tr',
                    null,
                    h('th', { scope: 'row' }, key),
                    h('td', null, input),
                    h('td', null, h('button', { type: 'button', onclick: () => void saveShared(key, input.value), 'aria-label': `Save ${key}` }, 'Save')),
                  );
                }),
              ),
            ),
      );
    });
    replaceChildren(attrBox, blocks);
  }
  const attrSection = h(
    'section',
    { class: 'card', 'aria-labelledby': 'attr-h' },
    h('h2', { id: 'attr-h' }, 'Attributes'),
    attrBox,
    canOperate() &&
    h(
      'form',
      {
        class: 'toolbar',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const key = newKey.value.trim();
          if (!key) return;
          void saveShared(key, newValue.value).then(() => {
            if (!attrError.textContent) {
              newKey.value = '';
              newValue.value = '';
            }
          });
        },
      },
      field('Shared attribute key', newKey),
      field('Value (JSON or text)', newValue),
      h('button', { type: 'submit' }, 'Set shared attribute'),
    ),
    attrError,
  );

  // ---- commands
  const method = h('input', { id: uniqueId('method'), required: true, autocomplete: 'off', placeholder: 'e.g. setValve' });
  const params = h('textarea', { id: uniqueId('params'), rows: 3, spellcheck: 'false' }, '{}');
  const persistent = h('input', { id: uniqueId('persistent'), type: 'checkbox' });
  const cmdError = h('p', { class: 'form-error', role: 'alert' });
  const cmdBody = h('tbody');
  const cmdRows = new Map<string, HTMLTableRowElement>();
  function showCommand(c: Command): void {
    const old = cmdRows.get(c.id);
    if (old && Number(old.dataset.updated) > c.updatedAt) return;
    const result = c.error ?? (c.response === undefined ? '' : formatValue(c.response));
    const tr = h(
      'tr',
      { 'data-command-id': c.id, 'data-updated': c.updatedAt },
      h('td', { 'data-label': 'Method' }, c.method),
      h('td', { 'data-label': 'State', class: 'command-status' }, badge(c.status, commandKind(c.status))),
      h('td', { 'data-label': 'Result', class: 'wrap' }, result),
      h('td', { 'data-label': 'Updated' }, timeEl(c.updatedAt)),
    );
    if (old) old.replaceWith(tr);
    else cmdBody.prepend(tr);
    cmdBody.querySelector('tr.placeholder')?.remove();
    cmdRows.set(c.id, tr);
    while (cmdBody.children.length > 10) {
      const last = cmdBody.lastElementChild as HTMLElement;
      if (last.dataset.commandId) cmdRows.delete(last.dataset.commandId);
      last.remove();
    }
  }
  const sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send command');
  const commandForm = h(
    'form',
    {
      class: 'command-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        cmdError.textContent = '';
        let parsed: unknown;
        try {
          parsed = params.value.trim() ? JSON.parse(params.value) : {};
        } catch (err) {
          cmdError.textContent = `Params are not JSON: ${errorText(err)}`;
          params.setAttribute('aria-invalid', 'true');
          params.focus();
          return;
        }
        params.removeAttribute('aria-invalid');
        sendButton.disabled = true;
        // Two-way commands answer when the device replies; the state shows live meanwhile.
        setTimeout(() => (sendButton.disabled = false), 500);
        post<Command>(`/api/devices/${id}/commands`, { method: method.value.trim(), params: parsed, ...(persistent.checked ? { persistent: true } : {}) })
          .then((c) => showCommand(c))
          .catch((err: unknown) => {
            cmdError.textContent = errorText(err);
          });
      },
    },
    field('Method', method),
    field('Params (JSON)', params),
    h('div', { class: 'check' }, persistent, h('label', { for: persistent.id }, 'Queue while the device is offline')),
    sendButton,
    cmdError,
  );
  const cmdSection = h(
    'section',
    { class: 'card', 'aria-labelledby': 'cmd-h' },
    h('h2', { id: 'cmd-h' }, 'Commands'),
    canOperate() ? commandForm : null,
    h('table', { class: 'data responsive commands' }, h('caption', { class: 'visually-hidden' }, 'Recent commands'), h('thead', null, h('tr', null, ['Method', 'State', 'Result', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))), cmdBody),
  );

  // ---- alarms
  const alarmBox = h('div');
  const alarmError = h('p', { class: 'form-error', role: 'alert' });
  async function loadAlarms(): Promise<void> {
    try {
      const page = await get<Page<Alarm>>(`/api/alarms${query({ deviceId, status: 'active,acknowledged', limit: 50 })}`);
      if (disposed) return;
      replaceChildren(alarmBox, page.items.length ? alarmTable(page.items, { onChange: () => void loadAlarms(), onError: (m) => (alarmError.textContent = m) }) : h('p', { class: 'hint' }, 'No open alarms.'));
    } catch (err) {
      alarmError.textContent = errorText(err);
    }
  }
  // ---- profile controls (pump ON/OFF…): declared on the device's profile, state shown live
  const controlsBox = h('div', { class: 'controls-list' });
  const controlsSection = h('section', { class: 'card', 'aria-labelledby': 'ctl-h', hidden: true }, h('h2', { id: 'ctl-h' }, 'Controls'), controlsBox);
  let controlDisposers: (() => void)[] = [];
  disposers.push(() => controlDisposers.forEach((d) => d()));
  /** The profile's units and controls; again after the device moves to another profile. */
  async function loadProfile(profileId: string): Promise<void> {
    try {
      const profile = await getProfile(profileId);
      if (disposed) return;
      latestCard.setProfileKeys(profile.telemetryKeys);
      if (chartMode && unitOf(chartMode.key)) void loadChart();
      controlDisposers.forEach((d) => d());
      controlDisposers = [];
      controlsBox.textContent = '';
      controlsSection.hidden = profile.controls.length === 0;
      for (const c of profile.controls) {
        const view = controlView(deviceId, c, c.label);
        controlDisposers.push(() => view.dispose());
        controlsBox.appendChild(view.el);
      }
    } catch (err) {
      pageError.textContent = `Controls: ${errorText(err)}`;
    }
  }

  const alarmSection = h('section', { class: 'card', 'aria-labelledby': 'alarm-h' }, h('h2', { id: 'alarm-h' }, 'Alarms'), alarmError, alarmBox);

  function showDevice(d: Device): void {
    heading.textContent = d.name;
    replaceChildren(
      meta,
      statusBadge(d),
      d.label ? h('span', null, d.label) : null,
      h('span', null, 'Transport: ', d.transport ?? '—'),
      h('span', null, 'Last activity: ', timeEl(d.lastActivity)),
    );
  }

  let device: Device | undefined;
  const manage = manageSection(
    deviceId,
    (d) => {
      const movedProfile = d.profileId !== device?.profileId;
      device = { ...device, ...d };
      showDevice(device);
      document.title = `${device.name} · Continuum`;
      if (movedProfile) void loadProfile(d.profileId);
    },
    () => {
      location.hash = '#/devices';
    },
  );
  const ready = (): void => readyMark();
  async function start(): Promise<void> {
    // Live first, then the reads (a point committed in between shows either way: the newest wins).
    disposers.push(
      live.subscribe({ type: 'telemetry', deviceId }, (m) => {
        const data = m.data as Record<string, TsValue[]>;
        for (const [key, points] of Object.entries(data)) {
          const newest = points.reduce<TsValue | undefined>((a, p) => (!a || p.ts >= a.ts ? p : a), undefined);
          if (newest) showLatest(key, newest);
          if (chartMode?.raw && chartMode.key === key) {
            for (const p of points) {
              const v = numeric(p.value);
              if (v !== null) chart.append(p.ts, v, Date.now() - (RANGES.find(([r]) => r === rangeSelect.value)?.[2] ?? 86_400_000));
            }
          }
        }
        if (device) {
          device = { ...device, lastActivity: Math.max(device.lastActivity ?? 0, m.ts) };
          showDevice(device);
        }
        if (!chartMode && keySelect.value && el.dataset.chart) void loadChart();
      }, ready),
      live.subscribe({ type: 'status', deviceId }, (m) => {
        const s = m.data as { online?: boolean; lastActivity?: number; transport?: string; offlineReason?: string };
        if (!device) return;
        device = { ...device, online: s.online ?? device.online, lastActivity: s.lastActivity ?? device.lastActivity, transport: s.transport ?? device.transport, offlineReason: s.offlineReason ?? null };
        showDevice(device);
      }, ready),
      live.subscribe({ type: 'commands', deviceId }, (m) => showCommand(m.data as Command), ready),
      live.subscribe({ type: 'alarms', deviceId }, () => void loadAlarms(), ready),
    );
    // Read beside the device itself, not after it: one round trip less before the first render.
    const firstReads = Promise.all([
      get<Record<string, TsValue>>(`/api/devices/${id}/telemetry/latest`),
      get<string[]>(`/api/devices/${id}/telemetry/keys`),
      get<Page<Command>>(`/api/commands${query({ deviceId, limit: 10 })}`),
    ]).catch((err: unknown) => ({ failed: err }));
    try {
      device = await get<Device>(`/api/devices/${id}`);
    } catch (err) {
      heading.textContent = 'Device not found';
      pageError.textContent = err instanceof ApiError && err.status === 404 ? 'This device does not exist (or was deleted).' : errorText(err);
      return;
    }
    if (disposed) return;
    showDevice(device);
    document.title = `${device.name} · Continuum`;
    manage.show(device);
    void loadProfile(device.profileId);
    const read = await firstReads;
    if ('failed' in read) pageError.textContent = errorText(read.failed);
    const [latestValues, keys, commands] = 'failed' in read ? ([{}, [], { items: [], total: 0 }] as [Record<string, TsValue>, string[], Page<Command>]) : read;
    if (disposed) return;
    for (const key of [...keys].sort()) if (!keySelect.querySelector(`option[value="${CSS.escape(key)}"]`)) keySelect.appendChild(h('option', { value: key }, key));
    // Open on a key of the device's own, not on a forecast the forecast job wrote (it overlays its key).
    const own = [...keySelect.options].find((o) => !o.value.startsWith('forecast.'));
    if (own) keySelect.value = own.value;
    for (const [key, point] of Object.entries(latestValues)) showLatest(key, point);
    latestCard.placeholderIfEmpty();
    for (const c of [...commands.items].reverse()) showCommand(c);
    if (cmdRows.size === 0) cmdBody.appendChild(h('tr', { class: 'placeholder' }, h('td', { colspan: 4, class: 'empty' }, 'No commands yet.')));
    if (!el.dataset.latest) performance.mark('continuum:device-latest');
    el.dataset.latest = 'ready';
    // The range fits the history of the key shown first (device-first-chart.ts; a year is read at once).
    const first = keySelect.value ? await fitChartRange(keySelect.value) : undefined;
    if (disposed) return;
    void loadChart(first);
    void loadAttributes().catch((err: unknown) => (attrError.textContent = errorText(err)));
    void loadAlarms();
  }

  const clock = setInterval(() => refreshTimes(el), 15_000);
  disposers.push(() => clearInterval(clock));

  const trips = tripsSection(deviceId);
  disposers.push(trips.dispose);
  const el = h(
    'section',
    { class: 'page device' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/devices' }, '← Devices')),
    heading,
    meta,
    pageError,
    controlsSection,
    h('div', { class: 'grid' }, latest, cmdSection),
    chartSection,
    h('div', { class: 'grid' }, alarmSection, attrSection),
    trips.el,
    firmwareSection(deviceId),
    credentialsSection(deviceId),
    manage.el,
  );
  const readyMark = readiness(el, 4);
  void start();
  return {
    title: 'Device',
    el,
    dispose: () => {
      disposed = true;
      for (const d of disposers) d();
    },
  };
}
