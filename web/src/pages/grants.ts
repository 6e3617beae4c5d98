/**
 * MQTT grants (tenant admin): which devices may publish or subscribe on which topic filter,
 * beyond their own topics. The template's variables are listed beside it (docs/MQTT.md).
 */
import { can } from '../api.js';
import { createGrant, deleteGrant, listGrants, type Grant, type GrantSubject } from '../tenancy-api.js';
import { field, h, replaceChildren, select, timeEl, uniqueId } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';
import { dataTable, deleteButton, feedback, formCard, tableRow } from './tenancy-kit.js';

const COLUMNS = ['Subject', 'Actions', 'Topic', 'Created', ''] as const;
const SUBJECTS = [
  ['all', 'Every device'],
  ['group', 'A group (by name)'],
  ['device', 'One device (by id)'],
] as const;
export const TEMPLATE_HINT = 'Variables: ${device.name}, ${device.id}, ${device.attr.KEY} (an attribute of the connecting device), ${group:NAME} (one level per member of the group). + and # wildcards as in MQTT.';

const subjectText = (s: GrantSubject): string => (s.all ? 'every device' : s.group !== undefined ? `group ${s.group}` : `device ${s.deviceId ?? ''}`);

export function grantsPage(): View {
  if (!can('grants:read')) return adminOnlyView('Grants', 'Only tenant admins manage MQTT grants.');
  const tbody = h('tbody');
  const el = h('section', { class: 'page grants-page' });
  const fb = feedback(load);

  async function load(): Promise<void> {
    try {
      replaceChildren(tbody, (await listGrants()).map(row));
      el.dataset.loaded = 'true';
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function row(g: Grant): HTMLTableRowElement {
    const box = h('div', { class: 'row-extra' });
    return tableRow({ 'data-grant-id': g.id }, COLUMNS, [
      subjectText(g.subject),
      g.actions.join(', '),
      h('code', null, g.topic),
      timeEl(g.createdAt),
      can('grants:write') ? [deleteButton(`grant on ${g.topic}`, 'Connections lose what it allowed at once. ', box, () => void fb.run('Grant deleted.', () => deleteGrant(g.id))), box] : null,
    ]);
  }

  const kind = select(SUBJECTS, 'all');
  const subject = h('input', { type: 'text', autocomplete: 'off', maxlength: 255, disabled: true });
  kind.addEventListener('change', () => (subject.disabled = kind.value === 'all'));
  const publish = h('input', { type: 'checkbox', id: uniqueId('grant-pub'), checked: true });
  const subscribe = h('input', { type: 'checkbox', id: uniqueId('grant-sub') });
  const topic = h('input', { type: 'text', autocomplete: 'off', required: true, maxlength: 1024 });
  const create = can('grants:write')
    ? formCard(
        'new-grant-h',
        'New grant',
        'Create grant',
        [
          h('div', { class: 'grid' }, field('Subject', kind), field('Group name or device id', subject, 'Not needed for every device.')),
          // The shared .check layout: a box beside its label (a bare label inside a fieldset renders as a block heading).
          h('fieldset', { class: 'rule-action' }, h('legend', null, 'Actions'), h('div', { class: 'check' }, publish, h('label', { for: publish.id }, 'Publish')), h('div', { class: 'check' }, subscribe, h('label', { for: subscribe.id }, 'Subscribe'))),
          field('Topic filter template', topic, TEMPLATE_HINT),
        ],
        () =>
          fb.run('Grant created.', async () => {
            const s: GrantSubject = kind.value === 'all' ? { all: true } : kind.value === 'group' ? { group: subject.value.trim() } : { deviceId: subject.value.trim() };
            const actions: Grant['actions'] = [...(publish.checked ? (['publish'] as const) : []), ...(subscribe.checked ? (['subscribe'] as const) : [])];
            await createGrant({ subject: s, actions, topic: topic.value.trim() });
            topic.value = '';
          }),
      )
    : null;

  replaceChildren(el, h('h1', null, 'Grants'), h('p', { class: 'hint' }, 'Device-to-device MQTT: a grant lets devices publish or subscribe on topics beyond their own.'), fb.status, fb.error, dataTable('Grants', COLUMNS, tbody, 'grants'), create);
  void load();
  return { title: 'Grants', el };
}
