/**
 * The dashboard's grid, over gridstack: 12 columns of 5.5 rem rows, one column below 48 rem.
 * In edit mode a widget moves by dragging its handle (the ⠿ button in its title bar, so the
 * widget's own buttons and charts keep their clicks) and resizes from its edges/corner. The same
 * handle is the keyboard way: arrow keys move, Shift + arrow keys resize, each change announced.
 *
 * The layout that is saved is always the 12-column one: gridstack keeps it while the phone shows
 * one column and maps one-column moves back onto it (`save()` without a column answers the
 * largest layout), so arranging a dashboard on a phone does not flatten the desktop layout.
 */
import type { GridItemHTMLElement, GridStack, GridStackNode } from 'gridstack';
// The stylesheet (6 kB) is in the main bundle: widgets must never be measured (Leaflet, uPlot)
// before the grid's layout rules apply.
import 'gridstack/dist/gridstack.min.css';
import { h } from '../dom.js';

/** gridstack's code (~97 kB) is a chunk of its own, loaded when a dashboard is first opened. */
let gridstack: typeof GridStack | undefined;
export async function loadGridstack(): Promise<void> {
  gridstack ??= (await import('gridstack')).GridStack;
}

export const COLUMNS = 12;
const MAX_ROWS = 100;
/** 48 rem: where the page's own layout turns to one column too. */
const NARROW_PX = 768;

export interface Layout {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DashGrid {
  readonly el: HTMLElement;
  /** A widget's content (a `.widget` section) placed at `at`; `key` identifies it in `layouts()`. */
  add(key: string, content: HTMLElement, at: Layout): void;
  remove(key: string): void;
  /** Puts new content in the item (after an edit), keeping its place. */
  replace(key: string, content: HTMLElement): void;
  /** Resizes an item (the Edit dialog's width and height); the grid may move it to fit. */
  resize(key: string, w: number, h: number): void;
  clear(): void;
  setEditable(on: boolean): void;
  /** The 12-column layout of every widget, by key. */
  layouts(): Map<string, Layout>;
  onChange(cb: () => void): void;
  destroy(): void;
}

const itemClass = 'grid-stack-item';

export function dashGrid(announce: (text: string) => void, hintId: string): DashGrid {
  const el = h('div', { class: 'grid-stack dash-grid' });
  const items = new Map<string, GridItemHTMLElement>();
  const listeners: (() => void)[] = [];
  let editable = false;
  let grid: GridStack | undefined;

  // gridstack measures the element: create it once it is in the document (first add).
  function ensure(): GridStack {
    if (grid) return grid;
    if (!gridstack) throw new Error('gridstack is not loaded yet');
    const g = gridstack.init(
      {
        column: COLUMNS,
        cellHeight: '5.5rem',
        margin: 6,
        mode: 'float',
        staticGrid: !editable,
        handle: '.widget-move',
        alwaysShowResizeHandle: true,
        resizable: { handles: 'e,se,s' },
        columnOpts: { breakpointForWindow: true, breakpoints: [{ w: NARROW_PX, c: 1 }], layout: 'list' },
        maxRow: MAX_ROWS,
      },
      el,
    );
    if (!g) throw new Error('gridstack did not start');
    g.on('change', () => listeners.forEach((cb) => cb()));
    g.on('dragstop resizestop', (_e: Event, item: GridItemHTMLElement) => announcePlace(item));
    // Leaflet and uPlot follow window resizes: a widget resized by hand is one for them too.
    g.on('resizestop', () => window.dispatchEvent(new Event('resize')));
    grid = g;
    return g;
  }

  function titleOf(item: HTMLElement): string {
    return item.querySelector('.widget-title')?.textContent ?? 'widget';
  }

  function announcePlace(item: GridItemHTMLElement): void {
    const n = item.gridstackNode;
    if (!n) return;
    announce(`${titleOf(item)}: column ${(n.x ?? 0) + 1}, row ${(n.y ?? 0) + 1}, ${n.w ?? 1} wide, ${n.h ?? 1} high.`);
  }

  function onKey(item: GridItemHTMLElement, e: KeyboardEvent): void {
    const g = grid;
    const n: GridStackNode | undefined = item.gridstackNode;
    if (!g || !n || !editable) return;
    const step: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const d = step[e.key];
    if (!d) return;
    e.preventDefault();
    const cols = g.getColumn();
    const [x, y, w, hh] = [n.x ?? 0, n.y ?? 0, n.w ?? 1, n.h ?? 1];
    const next = e.shiftKey
      ? { w: Math.min(cols - x, Math.max(1, w + d[0])), h: Math.min(MAX_ROWS, Math.max(1, hh + d[1])) }
      : { x: Math.min(cols - w, Math.max(0, x + d[0])), y: Math.max(0, y + d[1]) };
    g.update(item, next);
    announcePlace(item);
    // gridstack re-creates nothing here, but keep the focus on the handle for the next key.
    item.querySelector<HTMLElement>('.widget-move')?.focus();
  }

  function wire(item: GridItemHTMLElement): void {
    const handle = item.querySelector<HTMLButtonElement>('.widget-move');
    if (!handle) return;
    handle.setAttribute('aria-describedby', hintId);
    handle.addEventListener('keydown', (e) => onKey(item, e));
  }

  return {
    el,
    add(key, content, at) {
      const g = ensure();
      const item = h('div', { class: itemClass, 'data-key': key }, content) as GridItemHTMLElement;
      content.classList.add('grid-stack-item-content');
      g.makeWidget(item, { id: key, x: at.x, y: at.y, w: at.w, h: at.h });
      items.set(key, item);
      wire(item);
    },
    remove(key) {
      const item = items.get(key);
      if (!item) return;
      grid?.removeWidget(item, true);
      items.delete(key);
    },
    replace(key, content) {
      const item = items.get(key);
      if (!item) return;
      content.classList.add('grid-stack-item-content');
      item.querySelector('.grid-stack-item-content')?.replaceWith(content);
      wire(item);
    },
    resize(key, w, hh) {
      const item = items.get(key);
      if (!item || !grid) return;
      const x = Math.min(item.gridstackNode?.x ?? 0, COLUMNS - w);
      grid.update(item, { x, w, h: hh });
    },
    clear() {
      grid?.removeAll(true, false);
      items.clear();
    },
    setEditable(on) {
      editable = on;
      grid?.setStatic(!on);
    },
    layouts() {
      const out = new Map<string, Layout>();
      const saved = grid?.save(false, false);
      for (const w of Array.isArray(saved) ? saved : []) {
        if (w.id === undefined) continue;
        out.set(String(w.id), { x: w.x ?? 0, y: w.y ?? 0, w: w.w ?? 1, h: w.h ?? 1 });
      }
      return out;
    },
    onChange(cb) {
      listeners.push(cb);
    },
    destroy() {
      grid?.destroy(false);
      grid = undefined;
      items.clear();
    },
  };
}
