/**
 * #/ota: firmware and software packages (list, upload with progress, delete behind a confirmation)
 * and deployments (list with their overall counts, and a form that starts one to a list of devices
 * or a profile, in waves, with an abort threshold). Titles and versions are user text and stay
 * text. Writes are offered only to roles with ota:write (the API refuses the rest anyway).
 */
import { can, get, type Page, type Profile } from '../api.js';
import { field, h, replaceChildren, select, timeEl } from '../dom.js';
import type { View } from '../main.js';
import { createDeployment, deletePackage, listDeployments, listPackages, uploadPackage, type Deployment, type OtaPackage, type OtaType } from '../ota-api.js';
import { pickDevices } from '../tenancy-api.js';
import { adminOnlyView } from './admin-only.js';
import { dataTable, deleteButton, feedback, formCard, tableRow } from './tenancy-kit.js';

const PKG_COLUMNS = ['Title', 'Version', 'Type', 'Size', 'Checksum', 'Signed', 'Uploaded', 'Actions'] as const;
const DEP_COLUMNS = ['Package', 'Target', 'Status', 'Wave', 'Updated / failed / total', 'Started'] as const;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "1, 50, 100" → [1, 50, 100]; undefined when blank; throws on anything else. */
function parseWaves(text: string): number[] | undefined {
  if (!text.trim()) return undefined;
  const waves = text.split(',').map((s) => Number(s.trim()));
  if (waves.some((w) => !Number.isFinite(w) || w <= 0 || w > 100)) throw new Error('Waves are percentages between 1 and 100, separated by commas.');
  return waves;
}

export function otaPage(): View {
  if (!can('ota:read')) return adminOnlyView('Firmware', 'Your role cannot see firmware packages.');
  const writable = can('ota:write');
  const el = h('section', { class: 'page ota-page' });
  const pkgBody = h('tbody');
  const depBody = h('tbody');
  const fb = feedback(load);
  const pkgSelect = h('select', { required: true });

  async function load(): Promise<void> {
    try {
      const [pkgs, deps] = await Promise.all([listPackages(), listDeployments()]);
      replaceChildren(pkgBody, pkgs.length ? pkgs.map(pkgRow) : h('tr', null, h('td', { colspan: PKG_COLUMNS.length, class: 'empty' }, 'No packages yet.')));
      const byId = new Map(pkgs.map((p) => [p.id, p]));
      replaceChildren(depBody, deps.length ? deps.map((d) => depRow(d, byId.get(d.packageId))) : h('tr', null, h('td', { colspan: DEP_COLUMNS.length, class: 'empty' }, 'No deployments yet.')));
      const chosen = pkgSelect.value;
      replaceChildren(pkgSelect, pkgs.map((p) => h('option', { value: p.id }, `${p.title} ${p.version} (${p.type})`)));
      if (pkgs.some((p) => p.id === chosen)) pkgSelect.value = chosen;
      el.dataset.loaded = 'true';
    } catch (err) {
      fb.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  function pkgRow(p: OtaPackage): HTMLTableRowElement {
    const box = h('div', { class: 'row-extra' });
    return tableRow({ 'data-package-id': p.id }, PKG_COLUMNS, [
      h('span', { class: 'wrap' }, p.title),
      h('span', { class: 'wrap' }, p.version, p.fromVersion !== undefined ? ` (delta from ${p.fromVersion})` : ''),
      p.type === 'firmware' ? 'fw' : 'sw',
      formatBytes(p.size),
      h('code', { title: p.checksum }, p.checksum.slice(0, 12)),
      p.signedBy !== undefined ? 'yes' : 'no',
      timeEl(p.createdAt),
      writable ? [deleteButton(`${p.title} ${p.version}`, 'Devices assigned it must be moved first. ', box, () => void fb.run(`${p.title} ${p.version} deleted.`, () => deletePackage(p.id))), box] : '',
    ]);
  }

  function depRow(d: Deployment, p: OtaPackage | undefined): HTMLTableRowElement {
    const name = p ? `${p.title} ${p.version}` : `${d.type} ${d.version}`;
    return tableRow({ 'data-deployment-id': d.id }, DEP_COLUMNS, [
      h('a', { href: `#/ota/deployments/${encodeURIComponent(d.id)}`, class: 'wrap' }, name),
      d.target.profileId !== undefined ? 'a profile' : `${d.target.deviceIds?.length ?? 0} devices`,
      h('span', { class: `badge badge-deploy-${d.status}` }, d.status),
      `${Math.min(d.wave + 1, d.waves)} of ${d.waves}`,
      `${d.counts.updated} / ${d.counts.failed} / ${d.counts.total}`,
      timeEl(d.createdAt),
    ]);
  }

  replaceChildren(
    el,
    h('h1', null, 'Firmware'),
    h('p', { class: 'hint' }, 'Packages devices download over the air, and deployments that roll them out in waves.'),
    fb.status,
    fb.error,
    h('h2', null, 'Packages'),
    dataTable('Packages', PKG_COLUMNS, pkgBody, 'ota-packages'),
    writable ? uploadForm() : null,
    h('h2', null, 'Deployments'),
    dataTable('Deployments', DEP_COLUMNS, depBody, 'ota-deployments'),
    writable ? deployForm() : null,
  );
  void load();
  return { title: 'Firmware', el };

  function uploadForm(): HTMLFormElement {
    const file = h('input', { type: 'file', required: true });
    const title = h('input', { type: 'text', required: true, maxlength: 128, autocomplete: 'off' });
    const version = h('input', { type: 'text', required: true, maxlength: 128, autocomplete: 'off' });
    const type = select([['firmware', 'Firmware'], ['software', 'Software']], 'firmware');
    const profile = select([['', 'Any profile']], '');
    const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Upload progress', hidden: true });
    void get<Page<Profile>>('/api/profiles')
      .then((page) => page.items.forEach((p) => profile.appendChild(h('option', { value: p.id }, p.name))))
      .catch(() => undefined);
    return formCard(
      'ota-upload-h',
      'Upload a package',
      'Upload',
      [field('Package file', file), h('div', { class: 'grid' }, field('Title', title), field('Version', version), field('Type', type), field('For profile', profile)), progress],
      () =>
        fb.run(`${title.value.trim()} ${version.value.trim()} uploaded.`, async () => {
          const chosen = file.files?.[0];
          if (!chosen) throw new Error('Choose a file.');
          progress.hidden = false;
          progress.value = 0;
          await uploadPackage(chosen, { title: title.value.trim(), version: version.value.trim(), type: type.value as OtaType, ...(profile.value ? { profileId: profile.value } : {}) }, (f) => (progress.value = f));
          file.value = '';
          title.value = '';
          version.value = '';
        }),
    );
  }

  function deployForm(): HTMLFormElement {
    const targetKind = select([['devices', 'Devices'], ['profile', 'A profile']], 'devices');
    const devices = h('select', { multiple: true, size: 6 });
    const profile = h('select');
    const devicesField = field('Devices', devices, 'Hold Ctrl or ⌘ to choose several.');
    const profileField = field('Profile', profile);
    profileField.hidden = true;
    targetKind.addEventListener('change', () => {
      devicesField.hidden = targetKind.value !== 'devices';
      profileField.hidden = targetKind.value !== 'profile';
    });
    const waves = h('input', { type: 'text', autocomplete: 'off', placeholder: 'e.g. 10, 50, 100' });
    const abortPercent = h('input', { type: 'number', min: 0, max: 100, step: 'any', inputmode: 'decimal' });
    const abortAfter = h('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric', value: '5' });
    void pickDevices()
      .then((list) => list.forEach((d) => devices.appendChild(h('option', { value: d.id }, d.name))))
      .catch(() => undefined);
    void get<Page<Profile>>('/api/profiles')
      .then((page) => page.items.forEach((p) => profile.appendChild(h('option', { value: p.id }, p.name))))
      .catch(() => undefined);
    return formCard(
      'ota-deploy-h',
      'New deployment',
      'Start deployment',
      [
        field('Package', pkgSelect),
        field('Target', targetKind),
        devicesField,
        profileField,
        h(
          'div',
          { class: 'grid' },
          field('Waves (% of the target, cumulative)', waves, 'Blank: everyone at once.'),
          field('Abort when failed above (%)', abortPercent, 'Blank: never abort.'),
          field('Abort check after (finished devices)', abortAfter),
        ),
      ],
      async () => {
        let id: string | undefined;
        const ok = await fb.run('Deployment started.', async () => {
          const deviceIds = [...devices.selectedOptions].map((o) => o.value);
          if (targetKind.value === 'devices' && deviceIds.length === 0) throw new Error('Choose at least one device.');
          const wavesList = parseWaves(waves.value);
          const percent = abortPercent.value.trim();
          ({ id } = await createDeployment({
            packageId: pkgSelect.value,
            target: targetKind.value === 'devices' ? { deviceIds } : { profileId: profile.value },
            ...(wavesList ? { waves: wavesList } : {}),
            ...(percent ? { abort: { percent: Number(percent), after: Math.max(1, Number(abortAfter.value) || 1) } } : {}),
          }));
        });
        if (ok && id) location.hash = `#/ota/deployments/${encodeURIComponent(id)}`;
      },
    );
  }
}

