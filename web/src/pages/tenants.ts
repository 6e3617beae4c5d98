/**
 * Tenants (system admin): list, create, suspend/resume, delete behind a confirmation, add a
 * tenant's admin, and its quotas — the limits (blank = unlimited) beside the current usage.
 */
import { can } from '../api.js';
import { addTenantUser, createTenant, deleteTenant, getTenantQuotas, listTenants, setTenantQuotas, updateTenant, type QuotaLimits, type Tenant } from '../tenancy-api.js';
import { badge, field, h, replaceChildren, timeEl } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';
import { dataTable, deleteButton, feedback, formCard, tableRow } from './tenancy-kit.js';
import { PASSWORD_RULES } from './users.js';

const COLUMNS = ['Name', 'State', 'Created', 'Actions'] as const;
const LIMITS: readonly (readonly [keyof QuotaLimits, string, keyof QuotaUsageNames])[] = [
  ['maxDevices', 'Max devices', 'devices'],
  ['maxMessagesPerSecond', 'Max messages per second', 'messagesPerSecond'],
  ['maxPointsPerDay', 'Max points per day', 'pointsToday'],
  ['maxRules', 'Max rules', 'rules'],
];
interface QuotaUsageNames {
  devices: number;
  messagesPerSecond: number;
  pointsToday: number;
  rules: number;
}

export function tenantsPage(): View {
  if (!can('tenants:read')) return adminOnlyView('Tenants', 'Only the system administrator manages tenants.');
  const tbody = h('tbody');
  const el = h('section', { class: 'page tenants-page' });
  const fb = feedback(load);

  async function load(): Promise<void> {
    try {
      replaceChildren(tbody, (await listTenants()).map(row));
      el.dataset.loaded = 'true';
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function row(t: Tenant): HTMLTableRowElement {
    const extra = h('div', { class: 'row-extra' });
    const suspended = t.status === 'suspended';
    const toggle = h(
      'button',
      { type: 'button', 'aria-label': `${suspended ? 'Resume' : 'Suspend'} ${t.name}`, onclick: () => void fb.run(`${t.name} ${suspended ? 'resumed' : 'suspended'}.`, () => updateTenant(t.id, { status: suspended ? 'active' : 'suspended' })) },
      suspended ? 'Resume' : 'Suspend',
    );
    const addAdmin = h('button', { type: 'button', 'aria-label': `Add admin to ${t.name}`, onclick: () => adminForm(t, extra) }, 'Add admin');
    const quotas = h('button', { type: 'button', 'aria-label': `Quotas of ${t.name}`, onclick: () => void quotaForm(t, extra) }, 'Quotas');
    const remove = deleteButton(t.name, 'Its devices, data, rules, dashboards and users are deleted. ', extra, () => void fb.run(`${t.name} deleted.`, () => deleteTenant(t.id)));
    return tableRow({ 'data-tenant-id': t.id }, COLUMNS, [
      h('span', { class: 'wrap' }, t.name),
      suspended ? badge('suspended', 'bad') : badge('active', 'ok'),
      // The default tenant comes from the first start's schema, with no creation time (0): not "56 years ago".
      t.createdAt > 0 ? timeEl(t.createdAt) : h('span', { title: 'not recorded' }, '—'),
      [h('div', { class: 'button-row' }, toggle, addAdmin, quotas, remove), extra],
    ]);
  }

  function adminForm(t: Tenant, box: HTMLElement): void {
    const email = h('input', { type: 'email', autocomplete: 'off', required: true });
    const password = h('input', { type: 'password', autocomplete: 'new-password', required: true });
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void fb.run(`${email.value.trim()} is an admin of ${t.name}.`, () => addTenantUser(t.id, { email: email.value.trim(), password: password.value, role: 'tenant-admin' }));
        },
      },
      field(`Admin email for ${t.name}`, email),
      field(`Admin password for ${t.name}`, password, PASSWORD_RULES),
      h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary' }, 'Add tenant admin'), h('button', { type: 'button', onclick: () => replaceChildren(box) }, 'Cancel')),
    );
    replaceChildren(box, form);
    email.focus();
  }

  async function quotaForm(t: Tenant, box: HTMLElement): Promise<void> {
    let q;
    try {
      q = await getTenantQuotas(t.id);
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
      return;
    }
    const inputs = LIMITS.map(([key, label, usageKey]) => {
      const input = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', value: q.limits[key] ?? '' });
      return { key, input, el: field(`${label} (${t.name})`, input, `Blank: unlimited. In use: ${q.usage[usageKey]}${usageKey === 'pointsToday' ? ` (${q.usage.day}, UTC)` : ''}.`) };
    });
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const limits: Partial<QuotaLimits> = {};
          for (const { key, input } of inputs) limits[key] = input.value.trim() === '' ? null : Number(input.value);
          void fb.run(`Quotas of ${t.name} saved.`, () => setTenantQuotas(t.id, limits));
        },
      },
      h('p', { class: 'hint' }, q.custom ? 'This tenant has limits of its own.' : 'This tenant uses the configured default limits.'),
      inputs.map((i) => i.el),
      h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary' }, 'Save quotas'), h('button', { type: 'button', onclick: () => replaceChildren(box) }, 'Cancel')),
    );
    replaceChildren(box, form);
    inputs[0]?.input.focus();
  }

  const name = h('input', { type: 'text', autocomplete: 'off', required: true, maxlength: 255 });
  const create = formCard('new-tenant-h', 'New tenant', 'Create tenant', [field('Tenant name', name)], () =>
    fb.run(`Tenant ${name.value.trim()} created.`, async () => {
      await createTenant(name.value.trim());
      name.value = '';
    }),
  );

  replaceChildren(
    el,
    h('h1', null, 'Tenants'),
    h('p', { class: 'hint' }, "Each tenant's devices, users and data are apart from every other's. A suspended tenant's users cannot sign in and its devices are refused."),
    fb.status,
    fb.error,
    dataTable('Tenants', COLUMNS, tbody, 'tenants'),
    create,
  );
  void load();
  return { title: 'Tenants', el };
}
