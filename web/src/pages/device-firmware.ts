/**
 * The device page's Firmware card (GET /api/devices/{id}/firmware): the version the device reports,
 * the package assigned to it (its own or its profile's), its last fw_state and fw_error, and the
 * history of its reports; roles with ota:write can assign a package. Everything here but the
 * package list comes from the device and is rendered as text.
 */
import { can } from '../api.js';
import { field, h, replaceChildren, timeEl } from '../dom.js';
import { assignFirmware, deviceFirmware, listPackages, type FirmwareStatus } from '../ota-api.js';
import { errorText } from './tenancy-kit.js';

const HISTORY_SHOWN = 20;

function describe(fw: FirmwareStatus): HTMLElement {
  const a = fw.assigned;
  return h(
    'dl',
    { class: 'firmware-status' },
    h('dt', null, 'Current version'),
    h('dd', { 'data-field': 'current' }, fw.currentVersion === null ? 'not reported' : `${fw.currentTitle ?? ''} ${fw.currentVersion}`.trim()),
    h('dt', null, 'Assigned package'),
    h('dd', { 'data-field': 'assigned' }, a ? `${a.title} ${a.version}${a.via === 'profile' ? ' (from its profile)' : ''}${fw.upToDate ? ' · up to date' : ''}` : 'none'),
    h('dt', null, 'State'),
    h('dd', { 'data-field': 'state' }, fw.state ?? '—', fw.stateTs ? [' · ', timeEl(fw.stateTs)] : null, fw.error ? h('span', { class: 'form-error' }, ` ${fw.error}`) : null),
  );
}

export function firmwareSection(deviceId: string): HTMLElement | null {
  if (!can('ota:read')) return null;
  const body = h('div');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const note = h('p', { class: 'hint', role: 'status' });
  const assignBox = h('div');

  async function load(): Promise<void> {
    try {
      const { firmware } = await deviceFirmware(deviceId);
      const history = firmware.history.slice(0, HISTORY_SHOWN);
      replaceChildren(
        body,
        describe(firmware),
        h('h3', null, 'History'),
        history.length
          ? h('ol', { class: 'firmware-history', 'aria-label': 'Firmware history' }, history.map((e) => h('li', null, timeEl(e.ts), ' ', h('strong', null, e.state), e.error ? h('span', { class: 'wrap' }, ` — ${e.error}`) : null)))
          : h('p', { class: 'hint' }, 'No reports yet.'),
      );
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  async function showAssign(): Promise<void> {
    const pkgs = (await listPackages().catch(() => [])).filter((p) => p.type === 'firmware');
    if (!pkgs.length) {
      replaceChildren(assignBox, h('p', { class: 'hint' }, 'No firmware packages: upload one on the Firmware page.'));
      return;
    }
    const pick = h('select', null, pkgs.map((p) => h('option', { value: p.id }, `${p.title} ${p.version}`)));
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Assign');
    replaceChildren(
      assignBox,
      h(
        'form',
        {
          class: 'key-row',
          onsubmit: (e: Event) => {
            e.preventDefault();
            submit.disabled = true;
            error.textContent = '';
            note.textContent = '';
            void assignFirmware(deviceId, pick.value)
              .then(async () => {
                note.textContent = 'Package assigned: the device is told through its fw_* attributes.';
                replaceChildren(assignBox);
                await load();
              })
              .catch((err: unknown) => (error.textContent = errorText(err)))
              .finally(() => (submit.disabled = false));
          },
        },
        field('Package to assign', pick),
        submit,
      ),
    );
    pick.focus();
  }

  void load();
  return h(
    'section',
    { class: 'card firmware', 'aria-labelledby': 'fw-h' },
    h('h2', { id: 'fw-h' }, 'Firmware'),
    body,
    error,
    note,
    can('ota:write') ? h('div', { class: 'button-row' }, h('button', { type: 'button', onclick: () => void showAssign() }, 'Assign package')) : null,
    assignBox,
  );
}
