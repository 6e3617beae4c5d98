/**
 * #/profiles: the tenant's device profiles over the profiles API (GET/POST /api/profiles,
 * PUT/DELETE /api/profiles/:id). A profile declares its telemetry keys (type and unit: the unit is
 * shown next to the value on every device page and on charts), its command controls (shown on every
 * device of the profile), its payload codec and provisioning key/secret (fixed at creation, as the
 * API allows), and lists the rules that watch its devices (its alarm rules, edited on #/rules).
 * Admins edit; operators read. Every name here is user text and stays text.
 */
import { canWrite, del, get, post, put, type ControlSpec, type Rule } from '../api.js';
import { field, h, replaceChildren, select, uniqueId } from '../dom.js';
import type { View } from '../main.js';
import { errorText } from '../widgets/feed.js';

interface KeySpec {
  key: string;
  type: string;
  unit?: string;
  label?: string;
  decimals?: number;
}

interface FullProfile {
  id: string;
  name: string;
  codec: string;
  telemetryKeys: KeySpec[];
  provisionKey: string | null;
  provisionSecret?: string | null;
  controls: (ControlSpec & { label: string })[];
  retentionDays?: number | null;
  createdAt: number;
}

const KEY_TYPES = [['number', 'number'], ['boolean', 'boolean'], ['string', 'text'], ['json', 'JSON']] as const;
const KINDS = [['button', 'Button'], ['toggle', 'Toggle'], ['slider', 'Slider']] as const;

/** Rows of inputs with Add/Remove, read back as a list. */
function rowList<T>(legend: string, addLabel: string, make: (item: T | undefined, n: number) => { el: HTMLElement; read(): T | undefined }, items: readonly T[]): { el: HTMLElement; read(): T[] } {
  const rows: { el: HTMLElement; read(): T | undefined }[] = [];
  const list = h('div', { class: 'row-list' });
  const addRow = (item: T | undefined): void => {
    const row = make(item, rows.length + 1);
    const remove = h('button', { type: 'button', class: 'tool tool-remove', 'aria-label': `Remove ${legend.toLowerCase()} ${rows.length + 1}` }, 'Remove');
    const wrap = h('div', { class: 'toolbar row-item' }, row.el, remove);
    const entry = { el: wrap, read: row.read };
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(entry), 1);
      wrap.remove();
    });
    rows.push(entry);
    list.appendChild(wrap);
  };
  for (const item of items) addRow(item);
  const add = h('button', { type: 'button', onclick: () => {
    addRow(undefined);
    list.lastElementChild?.querySelector<HTMLElement>('input, select')?.focus();
  } }, addLabel);
  return {
    el: h('fieldset', { class: 'profile-part' }, h('legend', null, legend), list, h('div', { class: 'button-row' }, add)),
    read: () => rows.map((r) => r.read()).filter((v): v is T => v !== undefined),
  };
}

function keyRow(k: KeySpec | undefined, n: number): { el: HTMLElement; read(): KeySpec | undefined } {
  const key = h('input', { name: 'key', autocomplete: 'off', maxlength: 255, value: k?.key ?? '' });
  const type = select(KEY_TYPES, k?.type ?? 'number', { name: 'type' });
  const unit = h('input', { name: 'unit', autocomplete: 'off', maxlength: 64, value: k?.unit ?? '', placeholder: 'e.g. °C' });
  const label = h('input', { name: 'label', autocomplete: 'off', maxlength: 64, value: k?.label ?? '', placeholder: 'e.g. Air temperature' });
  const decimals = select([['', 'as sent'], ...[0, 1, 2, 3, 4, 5, 6].map((d) => [String(d), String(d)] as const)], k?.decimals === undefined ? '' : String(k.decimals), { name: 'decimals' });
  return {
    el: h('div', { class: 'toolbar' }, field(`Key ${n}`, key), field(`Type of key ${n}`, type), field(`Unit of key ${n}`, unit), field(`Label of key ${n}`, label), field(`Decimals of key ${n}`, decimals)),
    read: () =>
      key.value.trim()
        ? {
            key: key.value.trim(),
            type: type.value,
            ...(unit.value.trim() ? { unit: unit.value.trim() } : {}),
            ...(label.value.trim() ? { label: label.value.trim() } : {}),
            ...(decimals.value !== '' ? { decimals: Number(decimals.value) } : {}),
          }
        : undefined,
  };
}

function controlRow(c: (ControlSpec & { label: string }) | undefined, n: number): { el: HTMLElement; read(): (ControlSpec & { label: string }) | undefined } {
  const label = h('input', { name: 'label', autocomplete: 'off', maxlength: 255, value: c?.label ?? '' });
  const kind = select(KINDS, c?.kind ?? 'button', { name: 'kind' });
  const method = h('input', { name: 'method', autocomplete: 'off', maxlength: 255, value: c?.method ?? '', placeholder: 'e.g. setPump' });
  const stateKey = h('input', { name: 'stateKey', autocomplete: 'off', maxlength: 255, value: c?.stateKey ?? '' });
  const params = h('input', { name: 'params', autocomplete: 'off', value: c?.params === undefined ? '' : JSON.stringify(c.params), placeholder: '{"percent": 100}' });
  return {
    el: h('div', { class: 'toolbar' }, field(`Control ${n} label`, label), field(`Control ${n} kind`, kind), field(`Control ${n} method`, method), field(`Control ${n} state key`, stateKey), field(`Control ${n} params (JSON)`, params)),
    read: () => {
      if (!label.value.trim() && !method.value.trim()) return undefined;
      let parsed: unknown;
      if (params.value.trim()) {
        try {
          parsed = JSON.parse(params.value) as unknown;
        } catch {
          throw new Error(`Control ${n}: params are not JSON.`);
        }
      }
      return {
        ...(c ?? {}),
        label: label.value.trim(),
        kind: kind.value as ControlSpec['kind'],
        method: method.value.trim(),
        ...(stateKey.value.trim() ? { stateKey: stateKey.value.trim() } : { stateKey: undefined }),
        ...(parsed !== undefined ? { params: parsed } : { params: undefined }),
      };
    },
  };
}

export function profilesPage(): View {
  const writable = canWrite();
  const status = h('p', { class: 'hint', role: 'status' });
  const listError = h('p', { class: 'form-error', role: 'alert' });
  const tbody = h('tbody');
  const editorBox = h('div');
  let rules: Rule[] = [];

  function openEditor(existing: FullProfile | undefined): void {
    const name = h('input', { name: 'name', autocomplete: 'off', maxlength: 255, value: existing?.name ?? '' });
    const codec = select([['json', 'JSON'], ['senml', 'SenML']], existing?.codec ?? 'json', { name: 'codec' });
    if (existing) codec.disabled = true;
    const provisionKey = h('input', { name: 'provisionKey', autocomplete: 'off', maxlength: 255, value: existing?.provisionKey ?? '', readonly: Boolean(existing) });
    const provisionSecret = h('input', { name: 'provisionSecret', autocomplete: 'off', maxlength: 255, value: existing?.provisionSecret ?? '', readonly: Boolean(existing) });
    // Empty or 0: kept for ever (the API's meaning of 0 and null).
    const retention = h('input', { name: 'retentionDays', type: 'number', min: 0, max: 36500, step: 1, inputmode: 'numeric', value: existing?.retentionDays ? String(existing.retentionDays) : '', placeholder: 'for ever' });
    const keys = rowList<KeySpec>('Telemetry keys', 'Add key', keyRow, existing?.telemetryKeys ?? []);
    const controls = rowList('Controls', 'Add control', controlRow, existing?.controls ?? []);
    const formError = h('p', { class: 'form-error', role: 'alert' });
    const watching = existing ? rules.filter((r) => r.profileId === existing.id) : [];
    const heading = h('h2', { tabindex: '-1' }, existing ? `Edit ${existing.name}` : 'New profile');
    const clean = <T extends object>(o: T): T => JSON.parse(JSON.stringify(o)) as T;
    async function save(e: Event): Promise<void> {
      e.preventDefault();
      formError.textContent = '';
      // A new "saved." only once this save has landed (not the previous one's).
      status.textContent = 'Saving…';
      try {
        const body: Record<string, unknown> = { name: name.value.trim(), telemetryKeys: keys.read(), controls: clean(controls.read()), retentionDays: retention.value.trim() === '' ? 0 : Number(retention.value) };
        if (!existing) {
          body.codec = codec.value;
          if (provisionKey.value.trim()) body.provisionKey = provisionKey.value.trim();
          if (provisionSecret.value.trim()) body.provisionSecret = provisionSecret.value.trim();
        }
        const saved = existing ? await put<FullProfile>(`/api/profiles/${encodeURIComponent(existing.id)}`, body) : await post<FullProfile>('/api/profiles', body);
        status.textContent = `${saved.name} saved.`;
        await load();
        openEditor(saved);
      } catch (err) {
        formError.textContent = errorText(err);
      }
    }
    replaceChildren(
      editorBox,
      h(
        'section',
        { class: 'card profile-editor', 'aria-label': 'Profile editor' },
        heading,
        h(
          'form',
          { novalidate: true, onsubmit: (e: Event) => void save(e) },
          h(
            'div',
            { class: 'toolbar' },
            field('Name', name),
            field('Payload codec', codec, existing ? 'Fixed when the profile is created.' : 'How devices of this profile encode telemetry.'),
            field('Keep telemetry (days)', retention, 'Older points are deleted in the background; the latest values stay. Empty: for ever.'),
          ),
          keys.el,
          h('p', { class: 'hint' }, 'A key’s unit is shown next to its value on every device page of the profile, and on its charts; its label replaces the key’s name there, and numbers are shown with the chosen decimals.'),
          controls.el,
          h(
            'fieldset',
            { class: 'profile-part' },
            h('legend', null, 'Provisioning'),
            h('div', { class: 'toolbar' }, field('Provision key', provisionKey), field('Provision secret', provisionSecret)),
            h('p', { class: 'hint' }, existing ? 'Set when the profile is created.' : 'Optional: lets devices register themselves with this key and secret.'),
          ),
          existing
            ? h(
                'fieldset',
                { class: 'profile-part' },
                h('legend', null, 'Alarm rules'),
                watching.length
                  ? h('ul', null, watching.map((r) => h('li', null, h('a', { href: '#/rules' }, r.name), ` — ${r.condition}`, r.enabled ? '' : ' (disabled)')))
                  : h('p', { class: 'hint' }, 'No rule watches this profile’s devices yet.'),
                h('p', null, h('a', { href: '#/rules' }, 'Manage rules'), ' (a rule that applies to "a profile" watches every device of it).'),
              )
            : null,
          formError,
          h('div', { class: 'button-row' }, writable ? h('button', { type: 'submit', class: 'primary' }, existing ? 'Save profile' : 'Create profile') : null, ' ', h('button', { type: 'button', onclick: () => replaceChildren(editorBox) }, 'Close')),
        ),
      ),
    );
    heading.focus();
  }

  function row(p: FullProfile): HTMLTableRowElement {
    const actions = h('td', { 'data-label': 'Actions', class: 'row-actions' });
    const confirmBox = h('span', { class: 'confirm', hidden: true });
    const askDelete = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${p.name}` }, 'Delete');
    askDelete.addEventListener('click', () => {
      confirmBox.hidden = false;
      replaceChildren(
        confirmBox,
        h('button', { type: 'button', class: 'danger', onclick: () => {
          del(`/api/profiles/${encodeURIComponent(p.id)}`)
            .then(() => {
              status.textContent = `${p.name} deleted.`;
              return load();
            })
            .catch((err: unknown) => (listError.textContent = errorText(err)));
        } }, `Confirm delete ${p.name}`),
        ' ',
        h('button', { type: 'button', onclick: () => (confirmBox.hidden = true) }, 'Cancel'),
      );
      confirmBox.querySelector('button')?.focus();
    });
    replaceChildren(actions, h('button', { type: 'button', 'aria-label': `Edit ${p.name}`, onclick: () => openEditor(p) }, writable ? 'Edit' : 'View'), ' ', writable ? askDelete : null, confirmBox);
    const keys = p.telemetryKeys.map((k) => (k.unit ? `${k.key} (${k.unit})` : k.key)).join(', ');
    return h(
      'tr',
      { 'data-profile-id': p.id },
      h('th', { scope: 'row', 'data-label': 'Name' }, p.name),
      h('td', { 'data-label': 'Keys' }, keys || '—'),
      h('td', { 'data-label': 'Controls' }, String(p.controls.length)),
      h('td', { 'data-label': 'Codec' }, p.codec),
      actions,
    );
  }

  async function load(): Promise<void> {
    listError.textContent = '';
    const [{ items }, r] = await Promise.all([get<{ items: FullProfile[] }>('/api/profiles'), get<{ items: Rule[] }>('/api/rules').catch(() => ({ items: [] as Rule[] }))]);
    rules = r.items;
    replaceChildren(tbody, items.length ? [...items].sort((a, b) => a.name.localeCompare(b.name)).map(row) : h('tr', null, h('td', { colspan: 5 }, 'No profiles yet.')));
  }

  const captionId = uniqueId('profiles');
  const el = h(
    'section',
    { class: 'page profiles-page' },
    h('h1', null, 'Device profiles'),
    h('p', { class: 'hint' }, 'A profile describes a kind of device: its keys and their units, its controls, and the rules that watch it. Move a device to a profile from its page (Manage).'),
    writable ? h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'primary', onclick: () => openEditor(undefined) }, 'New profile')) : h('p', { class: 'hint' }, 'Read-only: your role cannot change profiles.'),
    status,
    listError,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', { class: 'data responsive', 'aria-describedby': captionId }, h('caption', { id: captionId, class: 'visually-hidden' }, 'Device profiles'), h('thead', null, h('tr', null, ['Name', 'Keys', 'Controls', 'Codec', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))), tbody),
    ),
    editorBox,
  );
  load()
    .then(() => (el.dataset.loaded = 'true'))
    .catch((err: unknown) => (listError.textContent = errorText(err)));
  return { title: 'Device profiles', el };
}
