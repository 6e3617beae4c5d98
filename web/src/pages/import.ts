/**
 * Fleet additions: tenant-wide counts by connectivity (GET /api/devices/counts, refreshed on
 * status changes) and bulk CSV import (POST /api/devices/import) sent in chunks so the page can
 * show progress, with every rejected row listed by its line in the file.
 */
import { canWrite, get, post, type DeviceCounts, type ImportResult } from '../api.js';
import { badge, debounce, field, h, replaceChildren } from '../dom.js';
import { live } from '../live.js';

/** Rows per request: big files go in several requests so progress is real, not a spinner. */
export const IMPORT_CHUNK_ROWS = 500;

export const DEVICES_CHANGED = 'continuum:devices-changed';

export interface CsvRecord {
  readonly text: string;
  /** 1-based line of the file the record starts on. */
  readonly line: number;
}

/** Splits CSV text into records, keeping newlines inside quoted fields (RFC 4180 §2.6). */
export function csvRecords(csv: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let quoted = false;
  for (let i = 0; i <= csv.length; i++) {
    const c = csv[i];
    if (c === '"') quoted = !quoted;
    else if ((c === '\n' && !quoted) || i === csv.length) {
      const text = csv.slice(start, i).replace(/\r$/, '');
      if (text.trim() !== '') out.push({ text, line: startLine });
      start = i + 1;
      startLine = line + 1;
    }
    if (c === '\n') line += 1;
  }
  return out;
}

export function fleetCounts(): { el: HTMLElement; dispose(): void } {
  const el = h('p', { class: 'fleet-counts', role: 'status', 'aria-label': 'Devices by status' });
  const refresh = debounce(() => {
    get<DeviceCounts>('/api/devices/counts')
      .then((c) => {
        replaceChildren(el, badge(`${c.online} online`, 'online'), ' ', badge(`${c.offline} offline`, 'offline'), ' ', h('span', { class: 'count-all' }, `${c.total} in total`));
        el.dataset.total = String(c.total);
        el.dataset.online = String(c.online);
      })
      .catch(() => undefined);
  }, 300);
  refresh();
  const off = live.subscribe({ type: 'status' }, () => refresh());
  // Devices created or deleted by this page (an import) change the total without a status event.
  window.addEventListener(DEVICES_CHANGED, refresh);
  return {
    el,
    dispose: () => {
      off();
      window.removeEventListener(DEVICES_CHANGED, refresh);
    },
  };
}

export function importPanel(onImported: () => void): HTMLElement | null {
  if (!canWrite()) return null;
  const file = h('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv' });
  const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Import progress', hidden: true });
  const note = h('p', { class: 'hint', role: 'status' });
  const errors = h('div');
  const go = h('button', { type: 'submit' }, 'Import devices');

  async function run(e: Event): Promise<void> {
    e.preventDefault();
    const chosen = file.files?.[0];
    replaceChildren(errors);
    if (!chosen) {
      note.textContent = 'Choose a CSV file first.';
      return;
    }
    const records = csvRecords(await chosen.text());
    const [header, ...rows] = records;
    if (!header || rows.length === 0) {
      note.textContent = 'The file has no rows under its header.';
      return;
    }
    go.disabled = true;
    progress.hidden = false;
    progress.max = rows.length;
    progress.value = 0;
    let created = 0;
    const failed: (ImportResult['errors'][number] & { line: number })[] = [];
    try {
      for (let i = 0; i < rows.length; i += IMPORT_CHUNK_ROWS) {
        const chunk = rows.slice(i, i + IMPORT_CHUNK_ROWS);
        const result = await post<ImportResult>('/api/devices/import', { csv: [header, ...chunk].map((r) => r.text).join('\n') });
        created += result.created;
        // The API numbers lines within the chunk it got (header = 1): map them back to the file.
        const fileLine: number[] = [];
        for (const r of [header, ...chunk]) r.text.split('\n').forEach((_, j) => fileLine.push(r.line + j));
        const toFile = (line: number): number => fileLine[line - 1] ?? line;
        for (const err of result.errors) failed.push({ ...err, line: toFile(err.row), message: err.message.replace(/\bline (\d+)/g, (_, n: string) => `line ${toFile(Number(n))}`) });
        progress.value = Math.min(rows.length, i + chunk.length);
        note.textContent = `Imported ${progress.value} of ${rows.length} rows…`;
      }
      note.textContent = `${created} device${created === 1 ? '' : 's'} created, ${failed.length} row${failed.length === 1 ? '' : 's'} rejected.`;
    } catch (err) {
      note.textContent = `Import stopped: ${err instanceof Error ? err.message : String(err)} (${created} created before).`;
    } finally {
      go.disabled = false;
    }
    if (failed.length) {
      replaceChildren(
        errors,
        h(
          'table',
          { class: 'data import-errors' },
          h('caption', null, 'Rejected rows'),
          h('thead', null, h('tr', null, ['Line', 'Name', 'Problem'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, failed.map((f) => h('tr', null, h('td', null, String(f.line)), h('td', null, f.name ?? ''), h('td', null, f.message)))),
        ),
      );
    }
    window.dispatchEvent(new Event(DEVICES_CHANGED));
    onImported();
  }

  return h(
    'details',
    { class: 'card import' },
    h('summary', null, 'Import devices from CSV'),
    h('p', { class: 'hint' }, 'Header row, then one device per row. Columns: name (required), label, profile, type, accessToken, clientId, username, password, certificateFingerprint.'),
    h('form', { class: 'toolbar', onsubmit: (e: Event) => void run(e) }, field('CSV file', file), go),
    progress,
    note,
    errors,
  );
}
