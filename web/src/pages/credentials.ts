/**
 * The device page's credentials card (GET/PUT /api/devices/{id}/credentials): what the device
 * authenticates with — an access token only as its hint, since the platform keeps just a hash of
 * it — and rotation of the token behind a confirmation step; the new token is shown in full this
 * once (the device must be given it). Only for roles that may change it.
 */
import { canWrite, get, put, type Credential } from '../api.js';
import { h, replaceChildren } from '../dom.js';

function describe(c: Credential, fresh: string | undefined): string {
  switch (c.type) {
    case 'ACCESS_TOKEN':
      return fresh ?? `${String(c.hint ?? '')} (shown in full only when set)`;
    case 'MQTT_BASIC':
      return `client id ${String(c.clientId ?? '—')}, user name ${String(c.username ?? '—')}${c.hasPassword ? ', password set' : ''}`;
    case 'X509_CERTIFICATE':
      return `SHA-256 ${String(c.fingerprint)}`;
    default:
      return c.type;
  }
}

export function credentialsSection(deviceId: string): HTMLElement | null {
  if (!canWrite()) return null;
  const id = encodeURIComponent(deviceId);
  const list = h('dl', { class: 'credentials' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const note = h('p', { class: 'hint', role: 'status' });
  const confirmBox = h('div', { class: 'button-row' });
  /** The token just generated: the only time the browser can show it. */
  let fresh: string | undefined;
  let items: Credential[] = [];

  function render(): void {
    replaceChildren(
      list,
      items.length === 0 ? h('dd', null, 'None.') : null,
      items.map((c) => [h('dt', null, c.type.replace('_', ' ').toLowerCase()), h('dd', { class: 'credential-value', 'data-type': c.type }, h('code', null, describe(c, fresh)))]),
    );
  }

  async function load(): Promise<void> {
    try {
      items = await get<Credential[]>(`/api/devices/${id}/credentials`);
      render();
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  async function rotate(): Promise<void> {
    replaceChildren(confirmBox, ask);
    error.textContent = '';
    try {
      const set = await put<Credential>(`/api/devices/${id}/credentials`, { type: 'ACCESS_TOKEN' });
      fresh = typeof set.token === 'string' ? set.token : undefined;
      note.textContent = 'New access token generated: give it to the device now, it is not shown again; the old one no longer works.';
      await load();
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  const ask: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        const yes = h('button', { type: 'button', class: 'danger', onclick: () => void rotate() }, 'Confirm new token');
        replaceChildren(confirmBox, h('span', null, 'The device will need the new token. '), yes, ' ', h('button', { type: 'button', onclick: () => (replaceChildren(confirmBox, ask), ask.focus()) }, 'Cancel'));
        yes.focus();
      },
    },
    'Rotate access token',
  );
  replaceChildren(confirmBox, ask);
  void load();
  return h('section', { class: 'card', 'aria-labelledby': 'cred-h' }, h('h2', { id: 'cred-h' }, 'Credentials'), list, confirmBox, note, error);
}
