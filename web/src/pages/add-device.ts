/**
 * The "Add device" wizard of the fleet page, in a modal <dialog>: name, profile and transport →
 * POST /api/devices → ready-to-paste mosquitto_pub / coap-client / curl lines with the new token
 * and the platform's real ports, and a live check that turns from "Waiting for the first
 * message…" to "Received" when the device's first telemetry arrives (WebSocket subscription, with
 * a poll of the latest values as a fallback while the socket reconnects).
 */
import { ApiError, get, post, type Device, type TsValue } from '../api.js';
import { connectLines, loadEndpoints, TRANSPORTS, type Transport } from '../connect.js';
import { field, formatValue, h, replaceChildren, select, uniqueId } from '../dom.js';
import { live } from '../live.js';

type Created = Device & { accessToken: string | null };

const POLL_MS = 3000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Opens the wizard; `onCreated` runs once a device exists (the fleet list reloads). */
export function openAddDevice(onCreated: () => void): void {
  const cleanups: (() => void)[] = [];
  const titleId = uniqueId('add-title');
  const title = h('h2', { id: titleId }, 'Add device');
  const body = h('div');
  const dialog = h('dialog', { class: 'wizard', 'aria-labelledby': titleId }, title, body);
  const close = (): void => dialog.close();
  dialog.addEventListener('close', () => {
    for (const c of cleanups) c();
    dialog.remove();
  });

  // ---- step 1: the form
  const name = h('input', { id: uniqueId('add-name'), 'aria-required': 'true', maxlength: 255, autocomplete: 'off' });
  const profile = select([], '', { id: uniqueId('add-profile') });
  const transport = select(TRANSPORTS, 'mqtt', { id: uniqueId('add-transport') });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create device');
  name.addEventListener('input', () => {
    name.removeAttribute('aria-invalid');
    error.textContent = '';
  });
  get<{ items: { id: string; name: string }[] }>('/api/profiles')
    .then(({ items }) => {
      const sorted = [...items].sort((a, b) => (a.name === 'default' ? -1 : b.name === 'default' ? 1 : a.name.localeCompare(b.name)));
      replaceChildren(profile, sorted.map((p) => h('option', { value: p.id }, p.name)));
    })
    .catch((err: unknown) => (error.textContent = `Profiles: ${errorText(err)}`));
  const form = h(
    'form',
    {
      onsubmit: (e: Event) => {
        e.preventDefault();
        const n = name.value.trim();
        if (!n) {
          name.setAttribute('aria-invalid', 'true');
          error.textContent = 'Give the device a name.';
          name.focus();
          return;
        }
        submit.disabled = true;
        error.textContent = '';
        post<Created>('/api/devices', { name: n, ...(profile.value ? { profileId: profile.value } : {}) })
          .then((device) => {
            onCreated();
            return showConnect(device, transport.value as Transport);
          })
          .catch((err: unknown) => {
            submit.disabled = false;
            name.setAttribute('aria-invalid', err instanceof ApiError && err.status === 409 ? 'true' : 'false');
            error.textContent = errorText(err);
          });
      },
    },
    field('Name', name, 'Unique in the tenant, e.g. pump-house-1'),
    field('Profile', profile),
    field('Transport', transport, 'How the device will talk to the platform; every transport works with the same token.'),
    error,
    h('div', { class: 'button-row' }, submit, h('button', { type: 'button', onclick: close }, 'Cancel')),
  );
  replaceChildren(body, form);

  // ---- step 2: how to connect, and the first message
  async function showConnect(device: Created, chosen: Transport): Promise<void> {
    title.textContent = `Connect ${device.name}`;
    const waiting = h('p', { class: 'first-message waiting', role: 'status', 'aria-live': 'polite' }, 'Waiting for the first message…');
    const list = h('div', { class: 'connect-lines' });
    replaceChildren(
      body,
      h('p', null, 'The device was created. Send its first message with one of these commands (they use this platform’s real ports):'),
      list,
      h('p', { class: 'hint' }, 'coap-client comes with libcoap (on Debian: apt install libcoap3-bin, run as coap-client-notls); mosquitto_pub with mosquitto-clients.'),
      waiting,
      h(
        'div',
        { class: 'button-row' },
        h('a', { class: 'button', href: `#/devices/${encodeURIComponent(device.id)}`, onclick: () => close() }, 'Open device'),
        h('button', { type: 'button', onclick: close }, 'Done'),
      ),
    );
    if (!device.accessToken) {
      list.appendChild(h('p', { class: 'hint' }, 'This device does not use an access token: see its credentials on the device page.'));
      return;
    }
    let received = false;
    const got = (data: Record<string, TsValue[] | TsValue>): void => {
      if (received) return;
      const pairs = Object.entries(data).map(([k, v]) => `${k} = ${formatValue(Array.isArray(v) ? v[v.length - 1]?.value : v.value)}`);
      if (pairs.length === 0) return;
      received = true;
      waiting.classList.replace('waiting', 'received');
      waiting.textContent = `Received: ${pairs.join(', ')}`;
      for (const c of cleanups.splice(0)) c();
    };
    cleanups.push(live.subscribe({ type: 'telemetry', deviceId: device.id }, (m) => got(m.data as Record<string, TsValue[]>)));
    const poll = setInterval(() => {
      get<Record<string, TsValue>>(`/api/devices/${encodeURIComponent(device.id)}/telemetry/latest`)
        .then(got)
        .catch(() => undefined);
    }, POLL_MS);
    cleanups.push(() => clearInterval(poll));
    try {
      const lines = connectLines(device.accessToken, await loadEndpoints());
      const ordered = [...lines.filter((l) => l.transport === chosen), ...lines.filter((l) => l.transport !== chosen)];
      replaceChildren(list, ordered.map((l) => commandBlock(l.tool, l.command, l.transport === chosen)));
    } catch (err) {
      list.appendChild(h('p', { class: 'form-error', role: 'alert' }, `Ports: ${errorText(err)}`));
    }
  }

  document.body.appendChild(dialog);
  dialog.showModal();
  name.focus();
}

function commandBlock(tool: string, command: string, chosen: boolean): HTMLElement {
  const code = h('code', null, command);
  const copied = h('span', { class: 'hint', role: 'status' });
  return h(
    'div',
    { class: `connect-line${chosen ? ' chosen' : ''}`, 'data-tool': tool },
    h('h3', null, tool),
    h('pre', { tabindex: '0' }, code),
    h(
      'button',
      {
        type: 'button',
        'aria-label': `Copy the ${tool} command`,
        onclick: () => {
          navigator.clipboard
            .writeText(command)
            .then(() => (copied.textContent = 'Copied.'))
            .catch(() => {
              getSelection()?.selectAllChildren(code);
              copied.textContent = 'Selected: copy it with Ctrl+C.';
            });
        },
      },
      'Copy',
    ),
    ' ',
    copied,
  );
}
