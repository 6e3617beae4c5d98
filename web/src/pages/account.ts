/**
 * My account (every role): change one's own password (the server ends the other sessions and
 * answers a new token for this tab) and one's API keys — created with an optional expiry, the key
 * shown once with a copy button, revoked behind a confirmation.
 */
import { currentRole, currentSession } from '../api.js';
import { changeOwnPassword, createApiKey, deleteApiKey, listApiKeys, type ApiKey } from '../admin-api.js';
import { field, h, replaceChildren, select, timeEl } from '../dom.js';
import type { View } from '../main.js';
import { totpCard } from './account-totp.js';
import { errorText, PASSWORD_RULES } from './users.js';

const DAY = 86_400_000;
const EXPIRIES = [
  ['', 'Never'],
  [String(7 * DAY), 'In 7 days'],
  [String(30 * DAY), 'In 30 days'],
  [String(90 * DAY), 'In 90 days'],
  [String(365 * DAY), 'In 1 year'],
] as const;

/** Roles a key may have, highest first; the server refuses one above the caller's (403). */
const KEY_ROLES = [
  ['', 'My role'],
  ['tenant-admin', 'Tenant admin'],
  ['operator', 'Operator'],
  ['viewer', 'Viewer (read only)'],
] as const;

function passwordCard(): HTMLElement {
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const fresh = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'hint', role: 'status' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  return h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'password-h',
      onsubmit: (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        status.textContent = '';
        if (fresh.value !== again.value) {
          error.textContent = 'The new passwords do not match.';
          again.focus();
          return;
        }
        button.disabled = true;
        changeOwnPassword(current.value, fresh.value)
          .then(() => {
            for (const input of [current, fresh, again]) input.value = '';
            status.textContent = 'Password changed. Your other sessions were signed out.';
          })
          .catch((err: unknown) => (error.textContent = errorText(err)))
          .finally(() => (button.disabled = false));
      },
    },
    h('h2', { id: 'password-h' }, 'Password'),
    field('Current password', current),
    field('New password', fresh, PASSWORD_RULES),
    field('New password again', again),
    error,
    status,
    button,
  );
}

function apiKeysCard(): HTMLElement {
  const tbody = h('tbody');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'hint', role: 'status' });
  const shown = h('div', { class: 'new-key' });
  const card = h('section', { class: 'card', 'aria-labelledby': 'keys-h' });

  async function load(): Promise<void> {
    try {
      const keys = await listApiKeys();
      replaceChildren(tbody, keys.length ? keys.map(row) : h('tr', null, h('td', { class: 'empty', colspan: 5 }, 'No API keys.')));
      card.dataset.loaded = 'true';
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  function row(k: ApiKey): HTMLTableRowElement {
    const box = h('span', { class: 'button-row' });
    const ask: HTMLButtonElement = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        'aria-label': `Delete API key ${k.name}`,
        onclick: () => {
          const yes = h('button', { type: 'button', class: 'danger', onclick: () => void remove(k) }, `Confirm delete ${k.name}`);
          replaceChildren(box, yes, h('button', { type: 'button', onclick: () => (replaceChildren(box, ask), ask.focus()) }, 'Cancel'));
          yes.focus();
        },
      },
      'Delete',
    );
    replaceChildren(box, ask);
    return h(
      'tr',
      { 'data-key-id': k.id },
      h('td', { 'data-label': 'Name', class: 'wrap' }, k.name),
      h('td', { 'data-label': 'Created' }, timeEl(k.createdAt)),
      h('td', { 'data-label': 'Role' }, k.role ?? 'mine'),
      h('td', { 'data-label': 'Expires' }, k.expiresAt === undefined ? 'never' : new Date(k.expiresAt).toLocaleString()),
      h('td', { 'data-label': 'Actions' }, box),
    );
  }

  async function remove(k: ApiKey): Promise<void> {
    error.textContent = '';
    try {
      await deleteApiKey(k.id);
      status.textContent = `API key ${k.name} deleted: requests with it now answer 401.`;
      replaceChildren(shown);
      await load();
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  /** The key exists in full only in this answer: show it once, in a read-only field with a copy button. */
  function showOnce(name: string, key: string): void {
    const value = h('input', { type: 'text', readonly: true, value: key, class: 'key-value', spellcheck: 'false', autocomplete: 'off' });
    const copied = h('span', { class: 'hint', role: 'status' });
    const copy = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          value.select();
          navigator.clipboard
            .writeText(key)
            .then(() => (copied.textContent = 'Copied.'))
            .catch(() => (copied.textContent = 'Copy it from the field (Ctrl+C).'));
        },
      },
      'Copy key',
    );
    replaceChildren(
      shown,
      h('p', { class: 'notice' }, `New API key “${name}”: copy it now, it is not shown again.`),
      h('div', { class: 'key-row' }, field('New API key', value), copy),
      copied,
    );
    value.focus();
    value.select();
  }

  const name = h('input', { type: 'text', required: true, maxlength: 255, autocomplete: 'off' });
  const expiry = select(EXPIRIES, '');
  const keyRole = select(KEY_ROLES, '', { id: 'key-role' });
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create API key');
  const form = h(
    'form',
    {
      class: 'toolbar',
      onsubmit: (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        status.textContent = '';
        create.disabled = true;
        const label = name.value.trim();
        createApiKey({ name: label, ...(expiry.value ? { expiresAt: Date.now() + Number(expiry.value) } : {}), ...(keyRole.value ? { role: keyRole.value } : {}) })
          .then(async (made) => {
            name.value = '';
            showOnce(label, made.key);
            await load();
          })
          .catch((err: unknown) => (error.textContent = errorText(err)))
          .finally(() => (create.disabled = false));
      },
    },
    field('Key name', name),
    field('Expires', expiry),
    field('Role', keyRole),
    create,
  );

  replaceChildren(
    card,
    h('h2', { id: 'keys-h' }, 'API keys'),
    h('p', { class: 'hint' }, 'For scripts and integrations: send it in the X-API-Key header. A key acts with the role chosen (never above yours; by default yours), until it expires or is deleted.'),
    form,
    shown,
    error,
    status,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data responsive api-keys' },
        h('caption', { class: 'visually-hidden' }, 'Your API keys'),
        h('thead', null, h('tr', null, ['Name', 'Created', 'Role', 'Expires', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ),
    ),
  );
  void load();
  return card;
}

export function accountPage(): View {
  const role = currentRole();
  const el = h(
    'section',
    { class: 'page account-page' },
    h('h1', null, 'My account'),
    h('p', { class: 'meta' }, h('span', null, currentSession()?.email ?? ''), h('span', null, `role: ${role ?? 'unknown'}`)),
    h('div', { class: 'grid' }, passwordCard(), totpCard(), apiKeysCard()),
  );
  return { title: 'My account', el };
}
