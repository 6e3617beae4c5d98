/**
 * Small pieces the tenancy pages share: one status line and one alert per page (a change's result
 * or the server's refusal, shown as it is), a captioned table, and a delete that asks first.
 */
import { h, replaceChildren, type Child } from '../dom.js';

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export interface Feedback {
  readonly status: HTMLParagraphElement;
  readonly error: HTMLParagraphElement;
  /** Runs a change, then reloads; a refusal is shown and nothing reloads. */
  run(done: string, action: () => Promise<unknown>): Promise<boolean>;
}

export function feedback(reload: () => Promise<void>): Feedback {
  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  return {
    status,
    error,
    async run(done, action) {
      status.textContent = '';
      error.textContent = '';
      try {
        await action();
        status.textContent = done;
        await reload();
        return true;
      } catch (err) {
        error.textContent = errorText(err);
        return false;
      }
    },
  };
}

export function dataTable(caption: string, columns: readonly string[], tbody: HTMLTableSectionElement, cls = ''): HTMLDivElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: `data responsive ${cls}` }, h('caption', { class: 'visually-hidden' }, caption), h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))), tbody),
  );
}

/** Cells in column order, each labelled for the phone layout (data-label). */
export function tableRow(attrs: Record<string, string>, columns: readonly string[], cells: readonly Child[]): HTMLTableRowElement {
  return h('tr', attrs, cells.map((c, i) => h('td', { 'data-label': columns[i] ?? '' }, c)));
}

/** A delete button that swaps in "Confirm …"/"Cancel" in `box` before anything happens. */
export function deleteButton(what: string, warning: string, box: HTMLElement, onConfirm: () => void): HTMLButtonElement {
  const ask: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'aria-label': `Delete ${what}`,
      onclick: () => {
        const yes = h('button', { type: 'button', class: 'danger', onclick: onConfirm }, `Confirm delete ${what}`);
        const no = h('button', { type: 'button', onclick: () => (replaceChildren(box), ask.focus()) }, 'Cancel');
        replaceChildren(box, h('div', { class: 'button-row' }, h('span', null, warning), yes, no));
        yes.focus();
      },
    },
    'Delete',
  );
  return ask;
}

/** A form card with a heading, fields and a submit button; `submit` gets the button to disable while it runs. */
export function formCard(id: string, title: string, submitLabel: string, body: Child[], submit: () => Promise<unknown>): HTMLFormElement {
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  return h(
    'form',
    {
      class: 'card',
      'aria-labelledby': id,
      onsubmit: (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        void submit().finally(() => (button.disabled = false));
      },
    },
    h('h2', { id }, title),
    body,
    button,
  );
}
