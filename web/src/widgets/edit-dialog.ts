/**
 * "Edit <title>": a widget's settings in a modal dialog, the same form as "Add widget" filled from
 * the widget. Apply hands the changed widget (same id and place) back to the dashboard page, which
 * redraws it; nothing is saved until the dashboard is.
 */
import type { Widget } from '../api.js';
import { h, uniqueId } from '../dom.js';
import { widgetForm } from './editor.js';

export function editWidgetDialog(widget: Widget, onApply: (w: Widget) => void, returnFocus: () => HTMLElement | null | undefined): void {
  const titleId = uniqueId('edit-title');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const dialog = h('dialog', { class: 'wizard', 'aria-labelledby': titleId });
  const form = widgetForm({
    initial: widget,
    nextY: () => widget.y,
    onSubmit: (w) => {
      onApply(w);
      dialog.close();
    },
  });
  dialog.append(h('h2', { id: titleId }, `Edit ${widget.title}`), form);
  // Cancel beside Apply, not on a row of its own.
  form.querySelector('button[type="submit"]')?.after(' ', cancel);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    // After Apply the widget was redrawn: focus goes to its new Edit button.
    returnFocus()?.focus();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  form.querySelector<HTMLElement>('input[name="title"]')?.focus();
}
