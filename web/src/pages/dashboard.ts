/**
 * #/dashboards/<id>: a dashboard's widgets on a 12-column grid, live. "Edit" adds widgets (form in
 * widgets/editor.ts), moves and resizes them with buttons (keyboard-friendly, no drag needed) and
 * removes them; "Save" writes the whole dashboard back (PUT), "Cancel" returns to the saved one.
 */
import { ApiError, canWrite, deleteDashboard, getDashboard, saveDashboard, type Dashboard, type Widget } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import type { View } from '../main.js';
import { widgetForm } from '../widgets/editor.js';
import { renderWidget, WIDGET_LABELS, type WidgetHandle } from '../widgets/index.js';

const COLUMNS = 12;

interface Placed {
  widget: Widget;
  readonly section: HTMLElement;
  readonly handle: WidgetHandle;
}

function place(section: HTMLElement, w: Widget): void {
  section.style.gridColumn = `${w.x + 1} / span ${w.w}`;
  section.style.gridRow = `${w.y + 1} / span ${w.h}`;
}

export function dashboardPage(dashboardId: string, startEditing: boolean): View {
  const heading = h('h1', { tabindex: '-1' }, 'Dashboard');
  const description = h('p', { class: 'meta' });
  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const grid = h('div', { class: 'dash-grid' });
  const editButton = h('button', { type: 'button', hidden: !canWrite() }, 'Edit');
  const saveButton = h('button', { type: 'button', class: 'primary', hidden: true }, 'Save');
  const cancelButton = h('button', { type: 'button', hidden: true }, 'Cancel');
  const deleteButton = h('button', { type: 'button', hidden: true }, 'Delete dashboard');
  const editorBox = h('section', { class: 'card composer', 'aria-labelledby': 'add-h', hidden: true }, h('h2', { id: 'add-h' }, 'Add widget'));
  const placed = new Map<number, Placed>();
  let nextKey = 1;
  let saved: Dashboard | undefined;
  let editing = false;

  const nextY = (): number => Math.max(0, ...[...placed.values()].map((p) => p.widget.y + p.widget.h));

  function update(key: number, change: Partial<Widget>): void {
    const p = placed.get(key);
    if (!p) return;
    const w = { ...p.widget, ...change };
    w.w = Math.min(COLUMNS, Math.max(1, w.w));
    w.x = Math.min(COLUMNS - w.w, Math.max(0, w.x));
    w.y = Math.max(0, w.y);
    w.h = Math.min(20, Math.max(1, w.h));
    p.widget = w;
    place(p.section, w);
    markDirty();
  }

  function markDirty(): void {
    grid.dataset.dirty = 'true';
    status.textContent = 'Unsaved changes.';
  }

  function editTools(key: number, w: Widget): HTMLElement {
    const b = (label: string, text: string, change: () => Partial<Widget>): HTMLButtonElement =>
      h('button', { type: 'button', class: 'tool', 'aria-label': `${label}: ${w.title}`, title: label, onclick: () => update(key, change()) }, text);
    const cur = (): Widget => placed.get(key)?.widget ?? w;
    return h(
      'div',
      { class: 'widget-tools', role: 'group', 'aria-label': `Layout of ${w.title}` },
      b('Move left', '←', () => ({ x: cur().x - 1 })),
      b('Move right', '→', () => ({ x: cur().x + 1 })),
      b('Move up', '↑', () => ({ y: cur().y - 1 })),
      b('Move down', '↓', () => ({ y: cur().y + 1 })),
      b('Narrower', '−W', () => ({ w: cur().w - 1 })),
      b('Wider', '+W', () => ({ w: cur().w + 1 })),
      b('Shorter', '−H', () => ({ h: cur().h - 1 })),
      b('Taller', '+H', () => ({ h: cur().h + 1 })),
      h('button', { type: 'button', class: 'tool tool-remove', 'aria-label': `Remove ${w.title}`, onclick: () => remove(key) }, 'Remove'),
    );
  }

  function add(w: Widget): void {
    const key = nextKey++;
    const handle = renderWidget(w);
    const tools = editTools(key, w);
    tools.hidden = !editing;
    const section = h(
      'section',
      { class: `widget card wtype-${w.type}`, 'data-widget-type': w.type, 'data-widget-id': w.id ?? '', 'aria-label': `${WIDGET_LABELS[w.type]}: ${w.title}` },
      h('h2', { class: 'widget-title' }, w.title),
      tools,
      handle.el,
    );
    place(section, w);
    placed.set(key, { widget: w, section, handle });
    grid.appendChild(section);
  }

  function remove(key: number): void {
    const p = placed.get(key);
    if (!p) return;
    p.handle.dispose();
    p.section.remove();
    placed.delete(key);
    markDirty();
  }

  function clear(): void {
    for (const p of placed.values()) p.handle.dispose();
    placed.clear();
    replaceChildren(grid);
  }

  function show(d: Dashboard): void {
    saved = d;
    heading.textContent = d.name;
    description.textContent = d.description ?? '';
    document.title = `${d.name} · Continuum`;
    clear();
    for (const w of [...d.widgets].sort((a, b) => a.y - b.y || a.x - b.x)) add(w);
    delete grid.dataset.dirty;
    status.textContent = d.widgets.length === 0 ? 'This dashboard is empty: choose Edit to add widgets.' : '';
  }

  function setEditing(wanted: boolean): void {
    const on = wanted && canWrite();
    editing = on;
    // A new dashboard opens with ?edit; once left, a reload shows the dashboard, not the editor.
    if (!on && location.hash.endsWith('?edit')) history.replaceState(null, '', location.hash.slice(0, -'?edit'.length));
    el.classList.toggle('editing', on);
    editButton.hidden = on || !canWrite();
    saveButton.hidden = !on;
    cancelButton.hidden = !on;
    deleteButton.hidden = !on;
    editorBox.hidden = !on;
    for (const p of placed.values()) {
      const tools = p.section.querySelector<HTMLElement>('.widget-tools');
      if (tools) tools.hidden = !on;
    }
  }

  editButton.addEventListener('click', () => setEditing(true));
  cancelButton.addEventListener('click', () => {
    if (saved) show(saved);
    setEditing(false);
  });
  saveButton.addEventListener('click', () => {
    if (!saved) return;
    error.textContent = '';
    saveButton.disabled = true;
    const widgets = [...placed.values()].map((p) => p.widget);
    saveDashboard(saved.id, { name: saved.name, ...(saved.description !== undefined ? { description: saved.description } : {}), widgets })
      .then((d) => {
        show(d);
        setEditing(false);
        status.textContent = 'Saved.';
      })
      .catch((err: unknown) => (error.textContent = err instanceof Error ? err.message : String(err)))
      .finally(() => (saveButton.disabled = false));
  });
  deleteButton.addEventListener('click', () => {
    if (!saved || !confirm(`Delete the dashboard "${saved.name}"?`)) return;
    deleteDashboard(saved.id)
      .then(() => (location.hash = '#/dashboards'))
      .catch((err: unknown) => (error.textContent = err instanceof Error ? err.message : String(err)));
  });
  editorBox.appendChild(
    widgetForm((w) => {
      add(w);
      markDirty();
    }, nextY),
  );

  const el = h(
    'section',
    { class: 'page dashboard' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/dashboards' }, '← Dashboards')),
    h('div', { class: 'dash-head' }, heading, h('div', { class: 'dash-actions' }, editButton, saveButton, cancelButton, deleteButton)),
    description,
    status,
    error,
    editorBox,
    grid,
  );

  getDashboard(dashboardId)
    .then((d) => {
      show(d);
      setEditing(startEditing);
      el.dataset.loaded = 'true';
    })
    .catch((err: unknown) => {
      heading.textContent = 'Dashboard not found';
      error.textContent = err instanceof ApiError && err.status === 404 ? 'This dashboard does not exist (or was deleted).' : String(err);
      editButton.hidden = true;
    });

  return { title: 'Dashboard', el, dispose: clear };
}
