/**
 * Users (admins): the tenant's accounts with their role and whether they may sign in; create one,
 * change a role, disable or enable, set a password, delete behind a confirmation. The server
 * decides every rule (password policy → 400, the last enabled admin → 409) and its message is
 * shown as it is, next to the row or form that caused it.
 */
import { ApiError, can, currentSession, isAdmin } from '../api.js';
import { createUser, deleteUser, listUsers, updateUser, type Role, type User } from '../admin-api.js';
import { badge, field, h, replaceChildren, select, timeEl } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';
import { listCustomers, listRoles, type Customer } from '../tenancy-api.js';

const BUILTIN_ROLES: readonly (readonly [string, string])[] = [
  ['operator', 'Operator'],
  ['viewer', 'Viewer'],
  ['customer-user', 'Customer user'],
  ['tenant-admin', 'Tenant admin'],
  ['sysadmin', 'System admin'],
];
export const PASSWORD_RULES = 'At least 12 characters (at most 256), not one repeated character, not the email address.';

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function usersPage(): View {
  if (!isAdmin()) return adminOnlyView('Users', 'Only admins can manage users.');
  const me = currentSession()?.email.toLowerCase();
  const tbody = h('tbody');
  const listError = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'hint', role: 'status' });
  const el = h('section', { class: 'page users-page' });
  // Built-in roles, then the tenant's custom roles (value custom:<id>); the system admin role only for the system admin.
  let roles: (readonly [string, string])[] = BUILTIN_ROLES.filter(([v]) => v !== 'sysadmin' || can('tenants:write'));
  let customers: Customer[] = [];

  async function load(): Promise<void> {
    try {
      const [users, custom, cust] = await Promise.all([listUsers(), can('roles:read') ? listRoles().catch(() => []) : [], can('customers:read') ? listCustomers().catch(() => []) : []]);
      roles = [...BUILTIN_ROLES.filter(([v]) => v !== 'sysadmin' || can('tenants:write')), ...custom.map((r) => [r.role, `${r.name} (custom)`] as const)];
      customers = cust;
      refreshCreateOptions();
      replaceChildren(tbody, users.map(row));
      el.dataset.loaded = 'true';
    } catch (err) {
      listError.textContent = err instanceof ApiError && err.status === 403 ? 'Only admins can manage users.' : errorText(err);
    }
  }

  /** Runs a change; a refusal (400, 409…) is shown without reloading, so the row keeps its state. */
  async function change(what: string, action: () => Promise<unknown>): Promise<boolean> {
    listError.textContent = '';
    status.textContent = '';
    try {
      await action();
      status.textContent = what;
      await load();
      return true;
    } catch (err) {
      listError.textContent = errorText(err);
      return false;
    }
  }

  function row(u: User): HTMLTableRowElement {
    const options = roles.some(([v]) => v === u.role) ? roles : [...roles, [u.role, u.role] as const];
    const roleSelect = select(options, u.role, { 'aria-label': `Role of ${u.email}` });
    const customer = u.customerId === undefined ? null : h('small', { class: 'hint' }, ` of ${customers.find((c) => c.id === u.customerId)?.name ?? u.customerId}`);
    roleSelect.addEventListener('change', () => {
      const role = roleSelect.value as Role;
      void change(`${u.email} is now ${role === 'tenant-admin' ? 'a tenant admin' : `a ${role}`}.`, () => updateUser(u.id, { role })).then((ok) => {
        if (!ok) roleSelect.value = u.role;
      });
    });
    const toggle = h(
      'button',
      { type: 'button', 'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.email}`, onclick: () => void change(`${u.email} ${u.disabled ? 'enabled' : 'disabled'}.`, () => updateUser(u.id, { disabled: !u.disabled })) },
      u.disabled ? 'Enable' : 'Disable',
    );
    const extra = h('div', { class: 'row-extra' });
    const setPassword = h('button', { type: 'button', 'aria-label': `Set password of ${u.email}`, onclick: () => openPasswordForm(u, extra, setPassword) }, 'Set password');
    const askDelete = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${u.email}`, onclick: () => confirmDelete(u, extra, askDelete) }, 'Delete');
    return h(
      'tr',
      { 'data-user-id': u.id },
      h('td', { 'data-label': 'Email', class: 'wrap' }, h('span', null, u.email, u.email.toLowerCase() === me ? h('span', { class: 'hint' }, ' (you)') : null)),
      h('td', { 'data-label': 'Role' }, roleSelect, customer),
      h('td', { 'data-label': 'State' }, u.disabled ? badge('disabled', 'bad') : badge('enabled', 'ok')),
      h('td', { 'data-label': 'Created' }, timeEl(u.createdAt)),
      h('td', { 'data-label': 'Actions' }, h('div', { class: 'button-row' }, toggle, setPassword, askDelete), extra),
    );
  }

  function openPasswordForm(u: User, box: HTMLElement, opener: HTMLButtonElement): void {
    const input = h('input', { type: 'password', autocomplete: 'new-password', required: true });
    const close = (): void => {
      replaceChildren(box);
      opener.focus();
    };
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void change(`New password set for ${u.email}; their sessions ended.`, () => updateUser(u.id, { password: input.value }));
        },
      },
      field(`New password for ${u.email}`, input, PASSWORD_RULES),
      h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary' }, 'Save password'), h('button', { type: 'button', onclick: close }, 'Cancel')),
    );
    replaceChildren(box, form);
    input.focus();
  }

  function confirmDelete(u: User, box: HTMLElement, opener: HTMLButtonElement): void {
    const yes = h('button', { type: 'button', class: 'danger', onclick: () => void change(`${u.email} deleted.`, () => deleteUser(u.id)) }, `Confirm delete ${u.email}`);
    const no = h('button', { type: 'button', onclick: () => (replaceChildren(box), opener.focus()) }, 'Cancel');
    replaceChildren(box, h('div', { class: 'button-row' }, h('span', null, 'Their sessions and API keys end. '), yes, no));
    yes.focus();
  }

  const email = h('input', { type: 'email', autocomplete: 'off', required: true });
  const password = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const role = select(roles, 'operator');
  const customerSelect = h('select', { disabled: true });
  const customerField = field('Customer', customerSelect, 'For customer users: they see only this customer’s devices and dashboards.');
  function refreshCreateOptions(): void {
    const chosen = role.value;
    replaceChildren(role, roles.map(([v, text]) => h('option', { value: v }, text)));
    role.value = roles.some(([v]) => v === chosen) ? chosen : 'operator';
    replaceChildren(customerSelect, customers.map((c) => h('option', { value: c.id }, c.name)));
    customerSelect.disabled = role.value !== 'customer-user';
  }
  role.addEventListener('change', () => (customerSelect.disabled = role.value !== 'customer-user'));
  const createError = h('p', { class: 'form-error', role: 'alert' });
  const createButton = h('button', { type: 'submit', class: 'primary' }, 'Create user');
  const createForm = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'new-user-h',
      onsubmit: (e: Event) => {
        e.preventDefault();
        createError.textContent = '';
        createButton.disabled = true;
        createUser({ email: email.value.trim(), password: password.value, role: role.value as Role, ...(role.value === 'customer-user' && customerSelect.value ? { customerId: customerSelect.value } : {}) })
          .then(async (u) => {
            status.textContent = `${u.email} created.`;
            email.value = '';
            password.value = '';
            await load();
          })
          .catch((err: unknown) => (createError.textContent = errorText(err)))
          .finally(() => (createButton.disabled = false));
      },
    },
    h('h2', { id: 'new-user-h' }, 'New user'),
    h('div', { class: 'grid' }, field('Email', email), field('Password', password, PASSWORD_RULES), field('Role', role), customerField),
    createError,
    createButton,
  );

  replaceChildren(
    el,
    h('h1', null, 'Users'),
    h('p', { class: 'hint' }, 'Operators read everything and operate devices (commands, set points, alarms); admins also configure. Any change to a user ends their sessions.'),
    status,
    listError,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data responsive users' },
        h('caption', { class: 'visually-hidden' }, 'Users'),
        h('thead', null, h('tr', null, ['Email', 'Role', 'State', 'Created', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ),
    ),
    createForm,
  );
  void load();
  return { title: 'Users', el };
}
