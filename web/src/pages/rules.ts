/**
 * Rules: the tenant's rules listed with their target and trigger, an editor that shows the API's
 * validation error at the field (and at the line and column inside the condition), a backtest
 * drawn before enabling, an enable/disable toggle and delete with a confirmation step. Users
 * without write access see the list only.
 */
import { ApiError, canWrite, del, get, post, put, type Device, type Page, type Rule, type RuleErrorBody } from '../api.js';
import { badge, field, h, replaceChildren, select, timeEl, uniqueId } from '../dom.js';
import type { View } from '../main.js';
import { actionsEditor, type ActionType } from './rule-actions.js';
import { backtestPanel } from './rules-backtest.js';

const TRIGGERS = ['telemetry', 'attributes', 'connectivity', 'schedule'] as const;
/** Fields PUT accepts (the answer adds id, tenantId, timestamps). */
const BODY_FIELDS = ['name', 'description', 'enabled', 'deviceId', 'profileId', 'trigger', 'condition', 'for', 'schedule', 'connectivity', 'actions', 'clearActions', 'autoClear'] as const;

type RuleFull = Rule & { schedule?: { cron: string; timeZone?: string }; connectivity?: { inactiveMinutes?: number }; clearActions?: unknown[]; autoClear?: boolean };
interface Named {
  id: string;
  name: string;
}

function bodyOf(rule: RuleFull): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of BODY_FIELDS) if (rule[k] !== undefined) out[k] = rule[k];
  return out;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function rulesPage(): View {
  const writable = canWrite();
  let devices: Named[] = [];
  let profiles: Named[] = [];
  let actionTypes: ActionType[] = [];
  let cleanup: (() => void) | undefined;

  const tbody = h('tbody');
  const listError = h('p', { class: 'form-error', role: 'alert' });
  const editorBox = h('div');
  const status = h('p', { class: 'hint', role: 'status' });

  const targetOf = (r: Rule): string =>
    r.deviceId ? `device ${devices.find((d) => d.id === r.deviceId)?.name ?? r.deviceId}` : r.profileId ? `profile ${profiles.find((p) => p.id === r.profileId)?.name ?? r.profileId}` : 'every device';

  function row(r: Rule): HTMLTableRowElement {
    const toggle = h('input', { type: 'checkbox', id: uniqueId('en'), checked: r.enabled, 'aria-label': `Enabled: ${r.name}` });
    toggle.addEventListener('change', () => void setEnabled(r, toggle.checked));
    const actions = h('td', { 'data-label': 'Actions', class: 'row-actions' });
    if (writable) {
      const confirmBox = h('span');
      const askDelete = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${r.name}` }, 'Delete');
      askDelete.addEventListener('click', () => {
        askDelete.hidden = true;
        const yes = h('button', { type: 'button', class: 'danger', onclick: () => void remove(r) }, `Confirm delete ${r.name}`);
        replaceChildren(confirmBox, yes, ' ', h('button', { type: 'button', onclick: () => ((askDelete.hidden = false), replaceChildren(confirmBox), askDelete.focus()) }, 'Cancel'));
        yes.focus();
      });
      replaceChildren(actions, h('button', { type: 'button', 'aria-label': `Edit ${r.name}`, onclick: () => openEditor(r) }, 'Edit'), ' ', askDelete, confirmBox);
    }
    return h(
      'tr',
      { 'data-rule-id': r.id },
      h('td', { 'data-label': 'Name' }, r.name),
      h('td', { 'data-label': 'Target' }, targetOf(r)),
      h('td', { 'data-label': 'Trigger' }, r.trigger, r.for ? ` for ${r.for}` : ''),
      h('td', { 'data-label': 'Enabled' }, writable ? toggle : badge(r.enabled ? 'enabled' : 'disabled', r.enabled ? 'ok' : 'offline')),
      h('td', { 'data-label': 'Updated' }, timeEl(r.updatedAt)),
      writable ? actions : null,
    );
  }

  async function load(): Promise<void> {
    try {
      const { items } = await get<{ items: Rule[] }>('/api/rules');
      replaceChildren(tbody, items.length ? items.sort((a, b) => a.name.localeCompare(b.name)).map(row) : h('tr', null, h('td', { colspan: writable ? 6 : 5, class: 'empty' }, 'No rules yet.')));
      el.dataset.loaded = 'true';
    } catch (err) {
      listError.textContent = errorText(err);
    }
  }

  async function setEnabled(r: Rule, enabled: boolean): Promise<void> {
    listError.textContent = '';
    try {
      await put<Rule>(`/api/rules/${encodeURIComponent(r.id)}`, { ...bodyOf(r as RuleFull), enabled });
      status.textContent = `${r.name} ${enabled ? 'enabled' : 'disabled'}.`;
    } catch (err) {
      listError.textContent = errorText(err);
    }
    await load();
  }

  async function remove(r: Rule): Promise<void> {
    listError.textContent = '';
    try {
      await del(`/api/rules/${encodeURIComponent(r.id)}`);
      status.textContent = `${r.name} deleted.`;
      closeEditor();
    } catch (err) {
      listError.textContent = errorText(err);
    }
    await load();
  }

  function closeEditor(): void {
    cleanup?.();
    cleanup = undefined;
    replaceChildren(editorBox);
  }

  function openEditor(existing: RuleFull | undefined): void {
    closeEditor();
    const name = h('input', { id: uniqueId('r-name'), value: existing?.name ?? '', autocomplete: 'off', required: true });
    const targetKind = select(
      [
        ['tenant', 'Every device'],
        ['device', 'One device'],
        ['profile', 'Devices of a profile'],
      ],
      existing?.deviceId ? 'device' : existing?.profileId ? 'profile' : 'tenant',
      { id: uniqueId('r-target') },
    );
    const deviceSel = select(devices.map((d) => [d.id, d.name] as const), existing?.deviceId ?? devices[0]?.id ?? '', { id: uniqueId('r-dev') });
    const profileSel = select(profiles.map((p) => [p.id, p.name] as const), existing?.profileId ?? profiles[0]?.id ?? '', { id: uniqueId('r-prof') });
    const trigger = select(TRIGGERS.map((t) => [t, t] as const), existing?.trigger ?? 'telemetry', { id: uniqueId('r-trig') });
    const condition = h('textarea', { id: uniqueId('r-cond'), rows: 3, spellcheck: 'false', class: 'code' });
    condition.value = existing?.condition ?? '';
    const forInput = h('input', { id: uniqueId('r-for'), value: existing?.for ?? '', placeholder: 'e.g. 10m', autocomplete: 'off' });
    const cron = h('input', { id: uniqueId('r-cron'), value: existing?.schedule?.cron ?? '', placeholder: '*/5 * * * *', autocomplete: 'off' });
    const inactive = h('input', { id: uniqueId('r-inact'), type: 'number', min: 1, value: existing?.connectivity?.inactiveMinutes ?? '' });
    const actions = actionsEditor(actionTypes, existing?.actions ?? [{ type: 'alarm', alarmType: 'Threshold', severity: 'warning' }]);
    const enabled = h('input', { type: 'checkbox', id: uniqueId('r-en'), checked: existing?.enabled ?? false });
    const formError = h('p', { class: 'form-error', role: 'alert' });
    const caret = h('pre', { class: 'caret', 'aria-hidden': 'true', hidden: true });

    const errs = new Map<string, HTMLElement>();
    const withError = (key: string, wrap: HTMLDivElement, control: HTMLElement): HTMLDivElement => {
      const msg = h('p', { class: 'field-error', id: `${control.id}-err` });
      control.setAttribute('aria-errormessage', msg.id);
      errs.set(key, msg);
      wrap.appendChild(msg);
      return wrap;
    };
    const controls: Record<string, HTMLElement> = { name, deviceId: deviceSel, profileId: profileSel, trigger, condition, for: forInput, schedule: cron, connectivity: inactive };
    const fieldWraps = {
      name: withError('name', field('Name', name), name),
      target: field('Applies to', targetKind),
      deviceId: withError('deviceId', field('Device', deviceSel), deviceSel),
      profileId: withError('profileId', field('Profile', profileSel), profileSel),
      trigger: withError('trigger', field('Trigger', trigger), trigger),
      condition: withError('condition', field('Condition', condition, 'An expression, e.g. temperature > 30.'), condition),
      for: withError('for', field('For', forInput, 'How long the condition must hold before acting (optional).'), forInput),
      schedule: withError('schedule', field('Schedule (cron)', cron), cron),
      connectivity: withError('connectivity', field('Inactive minutes', inactive), inactive),
    };
    // The hint's link goes to the dashboard's own help page, not to a file of the repository.
    fieldWraps.condition.querySelector('.hint')?.append(' ', h('a', { href: '#/help/rules' }, 'Expression help'));
    fieldWraps.condition.insertBefore(caret, errs.get('condition') ?? null);
    const sync = (): void => {
      fieldWraps.deviceId.hidden = targetKind.value !== 'device';
      fieldWraps.profileId.hidden = targetKind.value !== 'profile';
      fieldWraps.schedule.hidden = trigger.value !== 'schedule';
      fieldWraps.connectivity.hidden = trigger.value !== 'connectivity';
    };
    targetKind.addEventListener('change', sync);
    trigger.addEventListener('change', sync);
    sync();

    function clearErrors(): void {
      formError.textContent = '';
      actions.clearErrors();
      caret.hidden = true;
      for (const [key, msg] of errs) {
        msg.textContent = '';
        controls[key]?.removeAttribute('aria-invalid');
      }
    }

    /** `path` is a field (`condition`) or inside one (`actions[1].severity`, `schedule.cron`). */
    function showError(body: RuleErrorBody): void {
      const key = (body.path ?? '').split(/[.[]/)[0] ?? '';
      if (key === 'actions' && actions.markError(body.path ?? '', body.message)) return;
      const msg = errs.get(key);
      const control = controls[key];
      if (!msg || !control) {
        formError.textContent = body.message;
        return;
      }
      msg.textContent = body.message;
      control.setAttribute('aria-invalid', 'true');
      if (key === 'condition' && body.position) {
        // Point at the column under the offending line, and select the character there.
        const line = condition.value.split('\n')[body.position.line - 1] ?? '';
        caret.textContent = `${line}\n${' '.repeat(Math.max(0, body.position.column - 1))}^ line ${body.position.line}, column ${body.position.column}`;
        caret.hidden = false;
        condition.focus();
        condition.setSelectionRange(body.position.offset, Math.min(condition.value.length, body.position.offset + 1));
      } else control.focus();
    }

    async function save(e: Event): Promise<void> {
      e.preventDefault();
      clearErrors();
      let parsedActions: unknown;
      try {
        parsedActions = actions.value();
      } catch (err) {
        showError({ error: 'BAD_JSON', message: errorText(err), path: 'actions' });
        return;
      }
      const body: Record<string, unknown> = { name: name.value.trim(), trigger: trigger.value, condition: condition.value, actions: parsedActions, enabled: enabled.checked };
      if (targetKind.value === 'device') body.deviceId = deviceSel.value;
      if (targetKind.value === 'profile') body.profileId = profileSel.value;
      if (forInput.value.trim()) body.for = forInput.value.trim();
      if (trigger.value === 'schedule') body.schedule = { cron: cron.value.trim() };
      if (trigger.value === 'connectivity' && inactive.value) body.connectivity = { inactiveMinutes: Number(inactive.value) };
      for (const k of ['description', 'clearActions', 'autoClear'] as const) if (existing?.[k] !== undefined) body[k] = existing[k];
      try {
        const saved = existing ? await put<RuleFull>(`/api/rules/${encodeURIComponent(existing.id)}`, body) : await post<RuleFull>('/api/rules', body);
        status.textContent = `${saved.name} saved${saved.enabled ? '' : ' (disabled: backtest it, then enable it)'}.`;
        await load();
        openEditor(saved);
      } catch (err) {
        if (err instanceof ApiError && err.status === 400 && err.body && typeof err.body === 'object') showError(err.body as RuleErrorBody);
        else formError.textContent = errorText(err);
      }
    }

    const bt = existing ? backtestPanel(existing, () => void setEnabled(existing, true).then(() => openEditor({ ...existing, enabled: true }))) : undefined;
    cleanup = bt?.destroy;
    const heading = h('h2', { tabindex: '-1' }, existing ? `Edit ${existing.name}` : 'New rule');
    replaceChildren(
      editorBox,
      h(
        'section',
        { class: 'card rule-editor', 'aria-label': 'Rule editor' },
        heading,
        h(
          'form',
          { novalidate: true, onsubmit: (e: Event) => void save(e) },
          fieldWraps.name,
          h('div', { class: 'toolbar' }, fieldWraps.target, fieldWraps.deviceId, fieldWraps.profileId, fieldWraps.trigger),
          fieldWraps.condition,
          h('div', { class: 'toolbar' }, fieldWraps.for, fieldWraps.schedule, fieldWraps.connectivity),
          actions.el,
          h('div', { class: 'check' }, enabled, h('label', { for: enabled.id }, 'Enabled')),
          formError,
          h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary' }, existing ? 'Save rule' : 'Create rule'), ' ', h('button', { type: 'button', onclick: closeEditor }, 'Close')),
        ),
        bt ? bt.el : h('p', { class: 'hint' }, 'Save the rule (disabled) to backtest it before enabling it.'),
      ),
    );
    heading.focus();
  }

  const el: HTMLElement = h(
    'section',
    { class: 'page rules-page' },
    h('h1', null, 'Rules'),
    writable ? h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'primary', onclick: () => openEditor(undefined) }, 'New rule')) : h('p', { class: 'hint' }, 'Read-only: your role cannot change rules.'),
    status,
    listError,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data responsive rules' },
        h('caption', { class: 'visually-hidden' }, 'Rules'),
        h('thead', null, h('tr', null, ['Name', 'Target', 'Trigger', 'Enabled', 'Updated', ...(writable ? ['Actions'] : [])].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ),
    ),
    writable ? editorBox : null,
  );

  void Promise.all([
    get<Page<Device>>('/api/devices?limit=1000').then((p) => (devices = p.items.map((d) => ({ id: d.id, name: d.name })).sort((a, b) => a.name.localeCompare(b.name)))),
    get<{ items: Named[] }>('/api/profiles').then((p) => (profiles = p.items)),
    writable ? get<{ items: ActionType[] }>('/api/rules/actions').then((p) => (actionTypes = p.items)) : Promise.resolve(),
  ])
    .catch((err: unknown) => (listError.textContent = errorText(err)))
    .finally(() => void load());
  return { title: 'Rules', el, dispose: () => closeEditor() };
}
