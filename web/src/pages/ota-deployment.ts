/**
 * #/ota/deployments/<id>: one deployment — its status, a funnel per wave (how many devices are in
 * each state, as counts and bars), the failure reasons with how many devices gave each, its
 * devices, and Pause / Resume / Cancel for roles with ota:write. Refreshes itself every few seconds
 * while the deployment can still move (running or paused). Failure reasons come from devices
 * (`fw_error`) and are rendered as text.
 */
import { can } from '../api.js';
import { h, replaceChildren, timeEl } from '../dom.js';
import type { View } from '../main.js';
import { deploymentAction, deploymentDevices, getDeployment, ROLLOUT_STATES, type Counts, type Deployment, type DeploymentDevice } from '../ota-api.js';
import { pickDevices } from '../tenancy-api.js';
import { dataTable, errorText, tableRow } from './tenancy-kit.js';

const REFRESH_MS = 3000;
const STATE_LABELS: Record<(typeof ROLLOUT_STATES)[number], string> = {
  queued: 'Queued',
  notified: 'Notified',
  in_progress: 'In progress',
  updated: 'Updated',
  failed: 'Failed',
  canceled: 'Canceled',
};
const DEVICE_COLUMNS = ['Device', 'Wave', 'State', 'Last report', 'Attempts', 'Error'] as const;

/** One wave's funnel: a row per state with its count and a bar (a <meter>, so no inline style). */
function funnel(label: string, c: Counts, current: boolean): HTMLElement {
  return h(
    'figure',
    { class: `ota-funnel${current ? ' current' : ''}`, 'data-wave': label },
    h('figcaption', null, label, current ? ' (current)' : '', ` · ${c.total} ${c.total === 1 ? 'device' : 'devices'}`),
    h(
      'table',
      { class: 'data funnel' },
      h('caption', { class: 'visually-hidden' }, `${label}: devices per state`),
      h(
        'tbody',
        null,
        ROLLOUT_STATES.map((s) =>
          h(
            'tr',
            { 'data-state': s },
            h('th', { scope: 'row' }, STATE_LABELS[s]),
            h('td', { class: 'num' }, String(c[s])),
            h('td', { class: 'bar' }, h('meter', { min: 0, max: Math.max(c.total, 1), value: c[s], 'aria-label': `${label} ${STATE_LABELS[s]}: ${c[s]} of ${c.total}`, class: `meter-${s}` })),
          ),
        ),
      ),
    ),
  );
}

export function otaDeploymentPage(deploymentId: string): View {
  const el = h('section', { class: 'page ota-deployment' });
  const heading = h('h1', { tabindex: '-1' }, 'Deployment');
  const summary = h('p', { class: 'meta', 'aria-live': 'polite' });
  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const actions = h('div', { class: 'button-row' });
  const funnels = h('div', { class: 'ota-funnels' });
  const failures = h('div');
  const devBody = h('tbody');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  let names = new Map<string, string>();
  const writable = can('ota:write');

  async function act(action: 'pause' | 'resume' | 'cancel', done: string): Promise<void> {
    status.textContent = '';
    error.textContent = '';
    try {
      await deploymentAction(deploymentId, action);
      status.textContent = done;
    } catch (err) {
      error.textContent = errorText(err);
    }
    await load();
  }

  function render(d: Deployment, devices: DeploymentDevice[]): void {
    heading.textContent = `Deployment of ${d.type} ${d.version}`;
    replaceChildren(
      summary,
      h('span', { class: `badge badge-deploy-${d.status}`, 'data-status': d.status }, d.status),
      ` · wave ${Math.min(d.wave + 1, d.waves)} of ${d.waves} · ${d.counts.updated} updated, ${d.counts.failed} failed of ${d.counts.total} · started `,
      timeEl(d.createdAt),
      d.reason ? h('span', { class: 'wrap' }, ` · ${d.reason}`) : null,
    );
    replaceChildren(
      actions,
      writable && d.status === 'running' ? h('button', { type: 'button', onclick: () => void act('pause', 'Paused: nobody more is told.') }, 'Pause') : null,
      writable && d.status === 'paused' ? h('button', { type: 'button', class: 'primary', onclick: () => void act('resume', 'Resumed.') }, 'Resume') : null,
      writable && (d.status === 'running' || d.status === 'paused') ? h('button', { type: 'button', class: 'danger', onclick: () => void act('cancel', 'Canceled: queued devices will not be told.') }, 'Cancel deployment') : null,
    );
    replaceChildren(funnels, funnel('All waves', d.counts, false), d.perWave.map((c, i) => funnel(`Wave ${i + 1}`, c, i === d.wave && d.status === 'running')));
    const reasons = Object.entries(d.failures).sort((a, b) => b[1] - a[1]);
    replaceChildren(
      failures,
      reasons.length
        ? h('ul', { 'aria-label': 'Failure reasons' }, reasons.map(([reason, n]) => h('li', null, h('span', { class: 'wrap' }, reason), ` — ${n} ${n === 1 ? 'device' : 'devices'}`)))
        : h('p', { class: 'hint' }, 'No failures.'),
    );
    replaceChildren(
      devBody,
      devices.map((r) =>
        tableRow({ 'data-device-id': r.deviceId }, DEVICE_COLUMNS, [
          h('a', { href: `#/devices/${encodeURIComponent(r.deviceId)}` }, names.get(r.deviceId) ?? r.deviceId),
          String(r.wave + 1),
          STATE_LABELS[r.state],
          r.fwState ?? '—',
          String(r.attempts),
          h('span', { class: 'wrap' }, r.error ?? ''),
        ]),
      ),
    );
  }

  async function load(): Promise<void> {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    try {
      const [d, devices] = await Promise.all([getDeployment(deploymentId), deploymentDevices(deploymentId)]);
      if (disposed) return;
      if (devices.some((r) => !names.has(r.deviceId))) names = new Map((await pickDevices().catch(() => [])).map((x) => [x.id, x.name]));
      if (disposed) return;
      render(d, devices);
      el.dataset.loaded = 'true';
      // Only a deployment that can still move is worth polling.
      if (d.status === 'running' || d.status === 'paused') timer = setTimeout(() => void load(), REFRESH_MS);
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  replaceChildren(
    el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/ota' }, '← Firmware')),
    heading,
    summary,
    status,
    error,
    actions,
    h('h2', null, 'Funnel per wave'),
    funnels,
    h('h2', null, 'Failure reasons'),
    failures,
    h('h2', null, 'Devices'),
    dataTable('Devices of the deployment', DEVICE_COLUMNS, devBody, 'ota-devices'),
  );
  void load();
  return {
    title: 'Deployment',
    el,
    dispose: () => {
      disposed = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
