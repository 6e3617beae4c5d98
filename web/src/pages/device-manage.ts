/**
 * The device page's "Manage" card (admins): rename, move to another profile, delete. Delete asks
 * first in a modal <dialog> (Delete <name> / Cancel) naming what goes with the device; the REST
 * calls are PATCH and DELETE /api/devices/:id, which the server audits and refuses to operators.
 */
import { canWrite, del, get, api, type Device } from '../api.js';
import { field, h, replaceChildren, select, uniqueId } from '../dom.js';

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface ManageHandle {
  readonly el: HTMLElement | null;
  /** Called whenever the page has a fresh copy of the device. */
  show(device: Device): void;
}

/**
 * `onChange` receives the updated device (the page redraws its heading and reloads the profile's
 * units and controls); `onDeleted` leaves the page.
 */
export function manageSection(deviceId: string, onChange: (d: Device) => void, onDeleted: () => void): ManageHandle {
  if (!canWrite()) return { el: null, show: () => undefined };
  const path = `/api/devices/${encodeURIComponent(deviceId)}`;
  let current: Device | undefined;
  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const name = h('input', { id: uniqueId('rename'), maxlength: 255, autocomplete: 'off' });
  const profile = select([], '', { id: uniqueId('move-profile') });
  let profilesLoaded = false;

  async function patch(body: Record<string, string>, done: string): Promise<void> {
    error.textContent = '';
    status.textContent = '';
    try {
      const updated = await api<Device>('PATCH', path, body);
      current = { ...current, ...updated };
      status.textContent = done;
      onChange(current);
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  const renameForm = h(
    'form',
    {
      class: 'manage-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const n = name.value.trim();
        if (!n || n === current?.name) return;
        void patch({ name: n }, `Renamed to ${n}.`);
      },
    },
    field('Device name', name),
    h('button', { type: 'submit' }, 'Rename'),
  );
  const moveForm = h(
    'form',
    {
      class: 'manage-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (!profile.value || profile.value === current?.profileId) return;
        void patch({ profileId: profile.value }, `Moved to ${profile.selectedOptions[0]?.textContent ?? 'the profile'}.`);
      },
    },
    field('Device profile', profile),
    h('button', { type: 'submit' }, 'Move to profile'),
  );
  const deleteButton = h('button', { type: 'button', class: 'danger', onclick: () => confirmDelete() }, 'Delete device');

  function confirmDelete(): void {
    const who = current?.name ?? deviceId;
    const titleId = uniqueId('del-title');
    const dialogError = h('p', { class: 'form-error', role: 'alert' });
    const confirm = h('button', { type: 'button', class: 'danger' }, `Delete ${who}`);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const dialog = h(
      'dialog',
      { class: 'wizard', 'aria-labelledby': titleId, role: 'alertdialog' },
      h('h2', { id: titleId }, `Delete ${who}?`),
      h('p', null, 'Its credentials, telemetry, attributes, commands and alarms are deleted with it. A device still using its token is refused from then on. This cannot be undone.'),
      dialogError,
      h('div', { class: 'button-row' }, confirm, cancel),
    );
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      deleteButton.focus();
    });
    confirm.addEventListener('click', () => {
      confirm.disabled = true;
      del(path)
        .then(() => {
          dialog.close();
          onDeleted();
        })
        .catch((err: unknown) => {
          confirm.disabled = false;
          dialogError.textContent = errorText(err);
        });
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    // The safe choice has focus: Enter does not delete.
    cancel.focus();
  }

  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-h' },
    h('h2', { id: 'manage-h' }, 'Manage'),
    renameForm,
    moveForm,
    h('div', { class: 'button-row' }, deleteButton),
    status,
    error,
  );
  return {
    el,
    show: (d) => {
      current = d;
      if (document.activeElement !== name) name.value = d.name;
      if (!profilesLoaded) {
        profilesLoaded = true;
        get<{ items: { id: string; name: string }[] }>('/api/profiles')
          .then(({ items }) => {
            replaceChildren(profile, [...items].sort((a, b) => a.name.localeCompare(b.name)).map((p) => h('option', { value: p.id }, p.name)));
            profile.value = current?.profileId ?? '';
          })
          .catch((err: unknown) => (error.textContent = `Profiles: ${errorText(err)}`));
      } else if (document.activeElement !== profile) profile.value = d.profileId;
    },
  };
}
