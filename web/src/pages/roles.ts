/**
 * Custom roles (tenant admin): a name and a checklist of permissions, resource × action. A user
 * gets one as role `custom:<id>` on the Users page. Write implies operate and read; operate
 * implies read (the API's rule).
 */
import { can } from '../api.js';
import { createRole, deleteRole, listRoles, type CustomRole } from '../tenancy-api.js';
import { field, h, replaceChildren, timeEl } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';
import { dataTable, deleteButton, feedback, formCard, tableRow } from './tenancy-kit.js';

/** The API's vocabulary (src/domain/permissions.ts); it refuses anything else with 400. */
export const RESOURCES = [
  'devices', 'credentials', 'profiles', 'rules', 'dashboards', 'alarms', 'commands', 'attributes', 'telemetry', 'users', 'api-keys',
  'audit', 'edge-config', 'integrations', 'ota', 'customers', 'groups', 'grants', 'roles', 'settings', 'metrics',
] as const;
export const ACTIONS = ['read', 'operate', 'write'] as const;
const COLUMNS = ['Name', 'Role value', 'Permissions', 'Created', ''] as const;

export function rolesPage(): View {
  if (!can('roles:read')) return adminOnlyView('Roles', 'Only tenant admins manage roles.');
  const tbody = h('tbody');
  const el = h('section', { class: 'page roles-page' });
  const fb = feedback(load);

  async function load(): Promise<void> {
    try {
      replaceChildren(tbody, (await listRoles()).map(row));
      el.dataset.loaded = 'true';
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function row(r: CustomRole): HTMLTableRowElement {
    const box = h('div', { class: 'row-extra' });
    return tableRow({ 'data-role-id': r.id }, COLUMNS, [
      h('span', { class: 'wrap' }, r.name),
      h('code', null, r.role),
      h('span', { class: 'wrap' }, r.permissions.join(', ') || 'none'),
      timeEl(r.createdAt),
      can('roles:write') ? [deleteButton(r.name, 'Its users keep the role name and get no permission. ', box, () => void fb.run(`${r.name} deleted.`, () => deleteRole(r.id))), box] : null,
    ]);
  }

  const name = h('input', { type: 'text', autocomplete: 'off', required: true, maxlength: 100 });
  const boxes = new Map<string, HTMLInputElement>();
  const checklist = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data permissions' },
      h('caption', null, 'Permissions'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Resource'), ACTIONS.map((a) => h('th', { scope: 'col' }, a)))),
      h(
        'tbody',
        null,
        RESOURCES.map((r) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, r),
            ACTIONS.map((a) => {
              const box = h('input', { type: 'checkbox', 'aria-label': `${r} ${a}` });
              boxes.set(`${r}:${a}`, box);
              return h('td', null, box);
            }),
          ),
        ),
      ),
    ),
  );
  const create = can('roles:write')
    ? formCard('new-role-h', 'New role', 'Create role', [field('Role name', name), checklist], () =>
        fb.run(`Role ${name.value.trim()} created.`, async () => {
          await createRole({ name: name.value.trim(), permissions: [...boxes].filter(([, b]) => b.checked).map(([p]) => p) });
          name.value = '';
          for (const b of boxes.values()) b.checked = false;
        }),
      )
    : null;

  replaceChildren(el, h('h1', null, 'Roles'), h('p', { class: 'hint' }, 'Built-in roles: tenant admin, operator, viewer, customer user. Custom roles list exactly what they allow; give one to a user on the Users page.'), fb.status, fb.error, dataTable('Custom roles', COLUMNS, tbody, 'roles'), create);
  void load();
  return { title: 'Roles', el };
}
