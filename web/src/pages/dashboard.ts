/**
 * #/dashboards/<id>: a dashboard's widgets on a 12-column grid, live. "Edit" adds widgets (form in
 * widgets/editor.ts), moves and resizes them by dragging or from the keyboard (dashboard-grid.ts,
 * gridstack), edits a widget's settings in a dialog (widgets/edit-dialog.ts) and removes widgets;
 * "Save" writes the whole dashboard back (PUT) with the grid's 12-column layout, "Cancel" returns
 * to the saved one.
 */
import { ApiError, canWrite, deleteDashboard, getDashboard, saveDashboard, type Dashboard, type Widget } from '../api.js';
import { h, uniqueId } from '../dom.js';
import type { View } from '../main.js';
import { editWidgetDialog } from '../widgets/edit-dialog.js';
import { widgetForm } from '../widgets/editor.js';
import { renderWidget, WIDGET_LABELS, type WidgetHandle } from '../widgets/index.js';
import { dashGrid, loadGridstack } from './dashboard-grid.js';

interface Placed {
  widget: Widget;
  handle: WidgetHandle;
}

export function dashboardPage(dashboardId: string, startEditing: boolean): View {
  const heading = h('h1', { tabindex: '-1' }, 'Dashboard');
  const description = h('p', { class: 'meta' });
  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const hintId = uniqueId('grid-hint');
  const layoutHint = h(
    'p',
    { id: hintId, class: 'hint', hidden: true },
    'Drag a widget by its ⠿ handle to move it, and by its right or bottom edge to resize it. From the keyboard: focus the ⠿ handle, then arrow keys move it and Shift + arrow keys resize it.',
  );
  const grid = dashGrid((text) => (status.textContent = text), hintId);
  // Shown once the dashboard is loaded: editing before that would be undone by the load.
  const editButton = h('button', { type: 'button', hidden: true }, 'Edit');
  const saveButton = h('button', { type: 'button', class: 'primary', hidden: true }, 'Save');
  const cancelButton = h('button', { type: 'button', hidden: true }, 'Cancel');
  const deleteButton = h('button', { type: 'button', hidden: true }, 'Delete dashboard');
  const editorBox = h('section', { class: 'card composer', 'aria-labelledby': 'add-h', hidden: true }, h('h2', { id: 'add-h' }, 'Add widget'));
  const placed = new Map<string, Placed>();
  let nextKey = 1;
  let saved: Dashboard | undefined;
  let editing = false;

  const nextY = (): number => Math.max(0, ...[...grid.layouts().values()].map((l) => l.y + l.h));

  function markDirty(): void {
    grid.el.dataset.dirty = 'true';
    status.textContent = 'Unsaved changes.';
  }
  // Only a person's drag or key marks changes (gridstack also reports its own relayouts).
  grid.onChange(() => {
    if (editing) markDirty();
  });

  /** The widget's card: title bar (drag handle, title, Edit, Remove in edit mode) and its body. */
  function card(key: string, w: Widget, handle: WidgetHandle): HTMLElement {
    const tools = h(
      'div',
      { class: 'widget-tools', role: 'group', 'aria-label': `Layout of ${w.title}` },
      h('button', { type: 'button', class: 'tool', 'aria-label': `Edit ${w.title}`, onclick: () => edit(key) }, 'Edit'),
      h('button', { type: 'button', class: 'tool tool-remove', 'aria-label': `Remove ${w.title}`, onclick: () => remove(key) }, 'Remove'),
    );
    return h(
      'section',
      { class: `widget card wtype-${w.type}`, 'data-widget-type': w.type, 'data-widget-id': w.id ?? '', 'aria-label': `${WIDGET_LABELS[w.type]}: ${w.title}` },
      h(
        'div',
        { class: 'widget-head' },
        h('button', { type: 'button', class: 'widget-move edit-only', 'aria-label': `Move or resize ${w.title}`, title: 'Drag to move; arrow keys move, Shift + arrow keys resize' }, '⠿'),
        h('h2', { class: 'widget-title' }, w.title),
        tools,
      ),
      handle.el,
    );
  }

  function add(w: Widget): void {
    const key = String(nextKey++);
    const handle = renderWidget(w);
    placed.set(key, { widget: w, handle });
    grid.add(key, card(key, w, handle), w);
  }

  function edit(key: string): void {
    const p = placed.get(key);
    if (!p) return;
    const at = grid.layouts().get(key) ?? p.widget;
    editWidgetDialog(
      { ...p.widget, x: at.x, y: at.y, w: at.w, h: at.h },
      (w) => {
        p.handle.dispose();
        p.widget = w;
        p.handle = renderWidget(w);
        grid.replace(key, card(key, w, p.handle));
        grid.resize(key, w.w, w.h);
        markDirty();
      },
      () => grid.el.querySelector<HTMLElement>(`[data-key="${key}"] .widget-tools .tool`),
    );
  }

  function remove(key: string): void {
    const p = placed.get(key);
    if (!p) return;
    p.handle.dispose();
    grid.remove(key);
    placed.delete(key);
    markDirty();
  }

  /** The widgets as they are now: settings from the last add/edit, place and size from the grid. */
  function current(): Widget[] {
    const layouts = grid.layouts();
    return [...placed.entries()].map(([key, p]) => ({ ...p.widget, ...(layouts.get(key) ?? {}) }));
  }

  function clear(): void {
    for (const p of placed.values()) p.handle.dispose();
    placed.clear();
    grid.clear();
  }

  function show(d: Dashboard): void {
    saved = d;
    heading.textContent = d.name;
    description.textContent = d.description ?? '';
    document.title = `${d.name} · Continuum`;
    clear();
    for (const w of [...d.widgets].sort((a, b) => a.y - b.y || a.x - b.x)) add(w);
    delete grid.el.dataset.dirty;
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
    layoutHint.hidden = !on;
    grid.setEditable(on);
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
    const widgets = current();
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
    widgetForm({
      onSubmit: (w) => {
        add(w);
        markDirty();
      },
      nextY,
    }),
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
    layoutHint,
    grid.el,
  );

  Promise.all([getDashboard(dashboardId), loadGridstack()])
    .then(([d]) => {
      show(d);
      setEditing(startEditing);
      el.dataset.loaded = 'true';
    })
    .catch((err: unknown) => {
      heading.textContent = 'Dashboard not found';
      error.textContent = err instanceof ApiError && err.status === 404 ? 'This dashboard does not exist (or was deleted).' : String(err);
      editButton.hidden = true;
    });

  return {
    title: 'Dashboard',
    el,
    dispose: () => {
      clear();
      grid.destroy();
    },
  };
}
