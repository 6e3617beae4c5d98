/**
 * The device page's "Latest values" card: one row per key, sorted by key, each value flashing as
 * it changes (live over /api/ws), with the profile's unit, label and decimals. A point older than
 * the one shown is ignored (a late live message after a newer read).
 */
import type { TsValue } from '../api.js';
import { h, replaceChildren, timeEl } from '../dom.js';
import { formatHinted, type KeyHint } from './key-hints.js';

interface Cell {
  readonly value: HTMLElement;
  readonly unit: HTMLElement;
  readonly time: HTMLElement;
  readonly label: HTMLElement;
}

export interface LatestValues {
  readonly el: HTMLElement;
  show(key: string, point: TsValue): void;
  /** The unit the profile gives a key ('' when none). */
  unitOf(key: string): string;
  /** The device's profile keys: units, labels and decimals (again after the device moves profile). */
  setProfileKeys(keys: readonly (KeyHint & { unit?: string })[]): void;
  /** "No telemetry yet." while there is no row (the first row replaces it). */
  placeholderIfEmpty(): void;
}

/** `onNewKey` is told of each key the first time it shows (the page adds it to the chart's key list). */
export function latestValues(onNewKey: (key: string) => void): LatestValues {
  const body = h('tbody');
  const cells = new Map<string, Cell>();
  let units = new Map<string, string>();
  let hints = new Map<string, KeyHint>();
  const unitOf = (key: string): string => units.get(key) ?? '';

  function addRow(key: string): Cell {
    const cell: Cell = { value: h('output', { class: 'value', 'data-key': key }), unit: h('span', { class: 'unit' }, unitOf(key)), time: h('span'), label: h('th', { scope: 'row' }, hints.get(key)?.label ?? key) };
    cells.set(key, cell);
    body.querySelector('tr.placeholder')?.remove();
    const sorted = [...cells.keys()].sort();
    const next = sorted[sorted.indexOf(key) + 1];
    const before = next === undefined ? null : body.querySelector(`tr[data-key="${CSS.escape(next)}"]`);
    body.insertBefore(h('tr', { 'data-key': key }, cell.label, h('td', null, cell.value, cell.unit), h('td', null, cell.time)), before);
    onNewKey(key);
    return cell;
  }

  return {
    el: h(
      'section',
      { class: 'card', 'aria-labelledby': 'latest-h' },
      h('h2', { id: 'latest-h' }, 'Latest values'),
      h('table', { class: 'data latest' }, h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Updated'))), body),
    ),
    show(key, point) {
      const cell = cells.get(key) ?? addRow(key);
      if (point.ts < Number(cell.value.dataset.ts ?? 0)) return;
      cell.value.dataset.ts = String(point.ts);
      cell.value.dataset.raw = JSON.stringify(point.value ?? null);
      cell.value.textContent = formatHinted(point.value, hints.get(key));
      cell.value.classList.remove('flash');
      void cell.value.offsetWidth; // restarts the flash animation
      cell.value.classList.add('flash');
      replaceChildren(cell.time, timeEl(point.ts));
    },
    unitOf,
    setProfileKeys(keys) {
      units = new Map(keys.flatMap((k) => (k.unit ? [[k.key, k.unit] as const] : [])));
      hints = new Map(keys.map((k) => [k.key, k] as const));
      for (const [key, cell] of cells) {
        cell.unit.textContent = unitOf(key);
        cell.label.textContent = hints.get(key)?.label ?? key;
        if (cell.value.dataset.raw !== undefined) cell.value.textContent = formatHinted(JSON.parse(cell.value.dataset.raw) as unknown, hints.get(key));
      }
    },
    placeholderIfEmpty() {
      if (cells.size === 0) body.appendChild(h('tr', { class: 'placeholder' }, h('td', { colspan: 3, class: 'empty' }, 'No telemetry yet.')));
    },
  };
}
