/**
 * Customers (tenant admin): the tree of customers and sub-customers; create, rename, delete; one
 * customer's panel assigns devices, dashboards and groups and creates its customer users.
 */
import { can, listDashboards } from '../api.js';
import { createUser } from '../admin-api.js';
import { assignCustomer, createCustomer, deleteCustomer, listCustomerDevices, listCustomers, listGroups, pickDevices, renameCustomer, unassignCustomerDevice, type Customer } from '../tenancy-api.js';
import { field, h, replaceChildren, select } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';
import { deleteButton, feedback, formCard } from './tenancy-kit.js';
import { PASSWORD_RULES } from './users.js';

export function customersPage(): View {
  if (!can('customers:read')) return adminOnlyView('Customers', 'Your role cannot see customers.');
  const writable = can('customers:write');
  const tree = h('ul', { class: 'tree', 'aria-label': 'Customers' });
  const panel = h('div', { class: 'customer-panel' });
  const el = h('section', { class: 'page customers-page' });
  const fb = feedback(load);
  const parent = h('select', null);
  let customers: Customer[] = [];
  let openId: string | undefined;

  async function load(): Promise<void> {
    try {
      customers = await listCustomers();
      replaceChildren(tree, branch(undefined, 0));
      replaceChildren(parent, h('option', { value: '' }, '(top level)'), customers.map((c) => h('option', { value: c.id }, c.name)));
      const open = customers.find((c) => c.id === openId);
      if (open) await showPanel(open);
      else replaceChildren(panel);
      el.dataset.loaded = 'true';
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function branch(parentId: string | undefined, depth: number): HTMLLIElement[] {
    if (depth > 6) return [];
    return customers
      .filter((c) => c.parentId === parentId)
      .map((c) => {
        const children = branch(c.id, depth + 1);
        return h(
          'li',
          { 'data-customer-id': c.id },
          h('button', { type: 'button', class: 'link', 'aria-expanded': String(openId === c.id), onclick: () => ((openId = c.id), void load()) }, c.name),
          children.length ? h('ul', null, children) : null,
        );
      });
  }

  async function showPanel(c: Customer): Promise<void> {
    const [devices, all, dashboards, groups] = await Promise.all([listCustomerDevices(c.id), pickDevices(), listDashboards().then((d) => d.items), listGroups().catch(() => [])]);
    const box = h('div', { class: 'row-extra' });
    const assigned = h(
      'ul',
      { 'aria-label': `Devices of ${c.name}` },
      devices.map((d) =>
        h('li', null, h('a', { href: `#/devices/${encodeURIComponent(d.id)}` }, d.name), ' ', writable ? h('button', { type: 'button', 'aria-label': `Unassign ${d.name}`, onclick: () => void fb.run(`${d.name} unassigned.`, () => unassignCustomerDevice(c.id, d.id)) }, 'Unassign') : null),
      ),
    );
    const picker = (label: string, items: { id: string; name: string }[], what: 'devices' | 'dashboards' | 'groups'): HTMLElement | null => {
      if (!writable || items.length === 0) return null;
      const s = select(items.map((i) => [i.id, i.name] as const), items[0]?.id ?? '');
      return h(
        'form',
        { class: 'key-row', onsubmit: (e: Event) => (e.preventDefault(), void fb.run(`Assigned to ${c.name}.`, () => assignCustomer(c.id, what, [s.value]))) },
        field(label, s),
        h('button', { type: 'submit' }, `Assign ${what.replace(/s$/, '')}`),
      );
    };
    const rename = h('input', { type: 'text', required: true, maxlength: 255, value: c.name });
    const email = h('input', { type: 'email', autocomplete: 'off', required: true });
    const password = h('input', { type: 'password', autocomplete: 'new-password', required: true });
    replaceChildren(
      panel,
      h(
        'div',
        { class: 'card', role: 'region', 'aria-labelledby': 'customer-panel-h' },
        h('h2', { id: 'customer-panel-h' }, c.name),
        h('h3', null, 'Devices'),
        devices.length ? assigned : h('p', { class: 'hint' }, 'No devices assigned yet.'),
        picker('Device', all.filter((d) => !devices.some((x) => x.id === d.id)), 'devices'),
        picker('Dashboard', dashboards, 'dashboards'),
        picker('Group (its current members)', groups, 'groups'),
        writable
          ? [
              h('h3', null, 'New customer user'),
              h(
                'form',
                {
                  class: 'inline-form',
                  onsubmit: (e: Event) => (
                    e.preventDefault(),
                    void fb.run(`${email.value.trim()} can sign in as a user of ${c.name}.`, () => createUser({ email: email.value.trim(), password: password.value, role: 'customer-user', customerId: c.id }))
                  ),
                },
                field('Customer user email', email),
                field('Customer user password', password, PASSWORD_RULES),
                h('button', { type: 'submit', class: 'primary' }, 'Create customer user'),
              ),
              h('h3', null, 'Rename or delete'),
              h('form', { class: 'key-row', onsubmit: (e: Event) => (e.preventDefault(), void fb.run('Renamed.', () => renameCustomer(c.id, rename.value.trim()))) }, field('Customer name', rename), h('button', { type: 'submit' }, 'Rename')),
              h('div', { class: 'button-row' }, deleteButton(c.name, 'Its devices and dashboards become unassigned. ', box, () => void fb.run(`${c.name} deleted.`, () => ((openId = undefined), deleteCustomer(c.id))))),
              box,
            ]
          : null,
      ),
    );
  }

  const name = h('input', { type: 'text', autocomplete: 'off', required: true, maxlength: 255 });
  const create = writable
    ? formCard('new-customer-h', 'New customer', 'Create customer', [h('div', { class: 'grid' }, field('Customer name', name), field('Below', parent))], () =>
        fb.run(`Customer ${name.value.trim()} created.`, async () => {
          await createCustomer({ name: name.value.trim(), ...(parent.value ? { parentId: parent.value } : {}) });
          name.value = '';
        }),
      )
    : null;

  replaceChildren(el, h('h1', null, 'Customers'), h('p', { class: 'hint' }, "A customer's users see only its devices and dashboards (and those of its sub-customers)."), fb.status, fb.error, h('div', { class: 'card' }, tree), panel, create);
  void load();
  return { title: 'Customers', el };
}
