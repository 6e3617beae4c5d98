/** #/dashboards: the tenant's dashboards, and a form to start a new one. */
import { canWrite, createDashboard, listDashboards } from '../api.js';
import { field, h, replaceChildren, timeEl } from '../dom.js';
import type { View } from '../main.js';

export function dashboardsPage(): View {
  const listBox = h('div', { 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const name = h('input', { required: true, maxlength: 255, autocomplete: 'off', placeholder: 'e.g. Pump house' });
  const description = h('input', { maxlength: 4096, autocomplete: 'off' });
  let disposed = false;

  async function load(): Promise<void> {
    try {
      const { items } = await listDashboards();
      if (disposed) return;
      replaceChildren(
        listBox,
        items.length === 0
          ? h('p', { class: 'hint' }, 'No dashboards yet: create the first one below.')
          : h(
              'ul',
              { class: 'dashboard-list' },
              items.map((d) =>
                h(
                  'li',
                  { 'data-dashboard-id': d.id },
                  h('a', { href: `#/dashboards/${encodeURIComponent(d.id)}`, class: 'device-name' }, d.name),
                  d.description ? h('span', { class: 'hint' }, ` — ${d.description}`) : null,
                  h('span', { class: 'hint' }, ` · ${d.widgets.length} ${d.widgets.length === 1 ? 'widget' : 'widgets'} · updated `, timeEl(d.updatedAt)),
                ),
              ),
            ),
      );
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  const form = h(
    'form',
    {
      class: 'toolbar',
      onsubmit: (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        createDashboard({ name: name.value.trim(), ...(description.value.trim() ? { description: description.value.trim() } : {}), widgets: [] })
          .then((d) => {
            location.hash = `#/dashboards/${encodeURIComponent(d.id)}?edit`;
          })
          .catch((err: unknown) => (error.textContent = err instanceof Error ? err.message : String(err)));
      },
    },
    field('Name', name),
    field('Description (optional)', description),
    h('button', { type: 'submit', class: 'primary' }, 'Create dashboard'),
  );

  const el = h(
    'section',
    { class: 'page dashboards' },
    h('h1', { tabindex: '-1' }, 'Dashboards'),
    h('section', { class: 'card', 'aria-labelledby': 'dl-h' }, h('h2', { id: 'dl-h' }, 'Your dashboards'), listBox),
    // Operators open dashboards; admins compose them (the API enforces it too).
    canWrite() ? h('section', { class: 'card', 'aria-labelledby': 'dn-h' }, h('h2', { id: 'dn-h' }, 'New dashboard'), form, error) : null,
  );
  void load();
  return {
    title: 'Dashboards',
    el,
    dispose: () => {
      disposed = true;
    },
  };
}
