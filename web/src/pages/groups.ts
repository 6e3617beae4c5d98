/**
 * Device groups: create (static members, or an attribute filter), see the members, add or remove
 * devices (admins), and send one command to every member (operators and up).
 */
import { can } from '../api.js';
import { addGroupDevices, createGroup, deleteGroup, listGroupDevices, listGroups, pickDevices, removeGroupDevice, sendGroupCommand, type Group, type GroupCondition } from '../tenancy-api.js';
import { field, h, replaceChildren, select } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';
import { dataTable, deleteButton, feedback, formCard, tableRow } from './tenancy-kit.js';

const COLUMNS = ['Name', 'Members', 'Actions'] as const;
const SCOPES = [
  ['server', 'Server attribute'],
  ['shared', 'Shared attribute'],
  ['client', 'Client attribute'],
] as const;

const describe = (g: Group): string => (g.filter ? `filter: ${g.filter.all.map((c) => `${c.scope}.${c.key} = ${JSON.stringify(c.equals)}`).join(' and ')}` : 'static');

/** A JSON value as typed, or the text itself when it is not JSON (so `on` needs no quotes). */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function groupsPage(): View {
  if (!can('groups:read')) return adminOnlyView('Groups', 'Your role cannot see device groups.');
  const writable = can('groups:write');
  const tbody = h('tbody');
  const panel = h('div');
  const el = h('section', { class: 'page groups-page' });
  const fb = feedback(load);
  let openId: string | undefined;

  async function load(): Promise<void> {
    try {
      const groups = await listGroups();
      replaceChildren(tbody, groups.map(row));
      const open = groups.find((g) => g.id === openId);
      if (open) await showPanel(open);
      else replaceChildren(panel);
      el.dataset.loaded = 'true';
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function row(g: Group): HTMLTableRowElement {
    const box = h('div', { class: 'row-extra' });
    return tableRow({ 'data-group-id': g.id }, COLUMNS, [
      h('span', { class: 'wrap' }, g.name),
      describe(g),
      [
        h(
          'div',
          { class: 'button-row' },
          h('button', { type: 'button', 'aria-label': `Open ${g.name}`, onclick: () => ((openId = g.id), void load()) }, 'Open'),
          writable ? deleteButton(g.name, 'Its devices stay. ', box, () => void fb.run(`${g.name} deleted.`, () => deleteGroup(g.id))) : null,
        ),
        box,
      ],
    ]);
  }

  async function showPanel(g: Group): Promise<void> {
    const [members, all] = await Promise.all([listGroupDevices(g.id), writable ? pickDevices() : Promise.resolve([])]);
    const candidates = all.filter((d) => !members.some((m) => m.id === d.id));
    const device = select(candidates.map((d) => [d.id, d.name] as const), candidates[0]?.id ?? '');
    const method = h('input', { type: 'text', required: true, maxlength: 255, autocomplete: 'off' });
    const params = h('input', { type: 'text', autocomplete: 'off' });
    const results = h('ul', { 'aria-label': 'Command results' });
    replaceChildren(
      panel,
      h(
        'div',
        { class: 'card', role: 'region', 'aria-labelledby': 'group-panel-h' },
        h('h2', { id: 'group-panel-h' }, `Group ${g.name}`),
        h('p', { class: 'hint' }, describe(g)),
        members.length
          ? h(
              'ul',
              { 'aria-label': `Members of ${g.name}` },
              members.map((d) =>
                h('li', null, h('a', { href: `#/devices/${encodeURIComponent(d.id)}` }, d.name), ' ', writable && !g.filter ? h('button', { type: 'button', 'aria-label': `Remove ${d.name}`, onclick: () => void fb.run(`${d.name} removed.`, () => removeGroupDevice(g.id, d.id)) }, 'Remove') : null),
              ),
            )
          : h('p', { class: 'hint' }, 'No members.'),
        writable && candidates.length
          ? h('form', { class: 'key-row', onsubmit: (e: Event) => (e.preventDefault(), void fb.run('Device added.', () => addGroupDevices(g.id, [device.value]))) }, field('Device to add', device), h('button', { type: 'submit' }, 'Add device'))
          : null,
        can('groups:operate')
          ? h(
              'form',
              {
                class: 'inline-form',
                'aria-labelledby': 'group-cmd-h',
                onsubmit: (e: Event) => {
                  e.preventDefault();
                  const body = { method: method.value.trim(), ...(params.value.trim() ? { params: parseValue(params.value.trim()) } : {}) };
                  void fb.run(`Command sent to ${g.name}.`, async () => {
                    const r = await sendGroupCommand(g.id, body);
                    openId = undefined;
                    replaceChildren(results, r.items.map((i) => h('li', null, `${members.find((m) => m.id === i.deviceId)?.name ?? i.deviceId}: ${i.error ?? i.status ?? 'sent'}`)));
                  });
                },
              },
              h('h3', { id: 'group-cmd-h' }, 'Command to every member'),
              field('Method', method),
              field('Params (JSON, optional)', params),
              h('button', { type: 'submit', class: 'primary' }, 'Send to group'),
            )
          : null,
        results,
      ),
    );
  }

  const name = h('input', { type: 'text', autocomplete: 'off', required: true, maxlength: 255 });
  const scope = select(SCOPES, 'server');
  const key = h('input', { type: 'text', autocomplete: 'off', maxlength: 255 });
  const equals = h('input', { type: 'text', autocomplete: 'off' });
  const create = writable
    ? formCard(
        'new-group-h',
        'New group',
        'Create group',
        [
          field('Group name', name),
          h('fieldset', { class: 'rule-action' }, h('legend', null, 'Attribute filter (optional: leave the key blank for a static group)'), h('div', { class: 'grid' }, field('Scope', scope), field('Attribute key', key), field('Equals', equals, 'JSON (42, true, "x") or plain text'))),
        ],
        () =>
          fb.run(`Group ${name.value.trim()} created.`, async () => {
            const condition: GroupCondition | undefined = key.value.trim() ? { scope: scope.value as GroupCondition['scope'], key: key.value.trim(), equals: parseValue(equals.value.trim()) } : undefined;
            await createGroup({ name: name.value.trim(), ...(condition ? { filter: { all: [condition] } } : {}) });
            name.value = '';
            key.value = '';
            equals.value = '';
          }),
      )
    : null;

  replaceChildren(el, h('h1', null, 'Groups'), h('p', { class: 'hint' }, 'A group is its static members plus every device whose attributes match its filter.'), fb.status, fb.error, dataTable('Groups', COLUMNS, tbody, 'groups'), panel, create);
  void load();
  return { title: 'Groups', el };
}
