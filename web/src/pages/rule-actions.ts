/**
 * A rule's actions as forms, one per action, built from the action type's parameter schema
 * (`GET /api/rules/actions` → `configSchema`, a JSON Schema object): a choice of literals is a
 * select, strings and numbers are inputs, booleans checkboxes, and anything else (free JSON such as
 * alarm details, command params, webhook headers) a text area read as JSON, else kept as text.
 * An action of a type the platform does not list is kept as it is, as JSON. A 400 answer's path
 * (`actions[1].severity`) marks the field it names.
 */
import { field, h, select, uniqueId } from '../dom.js';

export interface ActionType {
  type: string;
  title: string;
  description?: string;
  configSchema?: unknown;
  defaults?: unknown;
}

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  const?: unknown;
}

export interface ActionsEditor {
  readonly el: HTMLElement;
  /** The actions as the API takes them; throws an Error naming the field when JSON is broken. */
  value(): unknown[];
  /** Marks the field of `actions[i].name` (or the whole list); false when the path is not an action's. */
  markError(path: string, message: string): boolean;
  clearErrors(): void;
}

type Reader = () => unknown;

interface Row {
  readonly el: HTMLElement;
  readonly read: () => Record<string, unknown>;
  readonly controls: Map<string, HTMLElement>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function literals(s: Schema): string[] | undefined {
  if (!s.anyOf || !s.anyOf.every((o) => typeof o.const === 'string')) return undefined;
  return s.anyOf.map((o) => o.const as string);
}

/** One parameter: its control, and how to read it back (undefined = left out). */
function param(name: string, s: Schema, required: boolean, value: unknown): { control: HTMLElement; wrap: HTMLElement; read: Reader } {
  const label = required ? name : `${name} (optional)`;
  const choices = literals(s);
  if (choices) {
    const c = select(choices.map((v) => [v, v] as const), typeof value === 'string' ? value : (choices[0] ?? ''), { name });
    return { control: c, wrap: field(label, c, s.description), read: () => c.value };
  }
  if (s.type === 'boolean') {
    const c = h('input', { type: 'checkbox', id: uniqueId('act'), name, checked: value === true });
    return { control: c, wrap: h('div', { class: 'check' }, c, h('label', { for: c.id }, label)), read: () => c.checked };
  }
  if (s.type === 'integer' || s.type === 'number') {
    const c = h('input', { type: 'number', name, step: s.type === 'integer' ? 1 : 'any', value: typeof value === 'number' ? String(value) : '' });
    return { control: c, wrap: field(label, c, s.description), read: () => (c.value.trim() === '' ? undefined : Number(c.value)) };
  }
  if (s.type === 'string') {
    const c = h('input', { name, autocomplete: 'off', value: typeof value === 'string' ? value : '' });
    return { control: c, wrap: field(label, c, s.description), read: () => (c.value === '' && !required ? undefined : c.value) };
  }
  // Free JSON (objects, lists, unions of a string and a list): JSON when it parses, else the text.
  const c = h('textarea', { name, rows: 2, spellcheck: 'false', class: 'code' });
  c.value = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 1);
  const read: Reader = () => {
    const text = c.value.trim();
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  return { control: c, wrap: field(`${label} (JSON or text)`, c, s.description), read };
}

function actionRow(index: () => number, action: Record<string, unknown>, def: ActionType | undefined, onRemove: (row: Row) => void): Row {
  const controls = new Map<string, HTMLElement>();
  const title = def ? def.title : `${String(action.type)} (not known to this platform)`;
  const legend = h('legend', null, title);
  const remove = h('button', { type: 'button', class: 'tool tool-remove' }, 'Remove action');
  const body = h('div', { class: 'toolbar action-fields' });
  const fieldset = h('fieldset', { class: 'rule-action', 'data-action-type': String(action.type) }, legend, def?.description ? h('p', { class: 'hint' }, def.description) : null, body, remove);
  let read: () => Record<string, unknown>;
  const schema = def?.configSchema as Schema | undefined;
  if (def && schema && isObject(schema.properties)) {
    const readers: [string, Reader][] = [];
    for (const [name, s] of Object.entries(schema.properties)) {
      const p = param(name, s, schema.required?.includes(name) ?? false, action[name]);
      controls.set(name, p.control);
      readers.push([name, p.read]);
      body.appendChild(p.wrap);
    }
    read = () => {
      const out: Record<string, unknown> = { type: def.type };
      for (const [name, r] of readers) {
        const v = r();
        if (v !== undefined) out[name] = v;
      }
      return out;
    };
  } else {
    const raw = h('textarea', { rows: 3, spellcheck: 'false', class: 'code', name: 'action' });
    raw.value = JSON.stringify(action, null, 2);
    controls.set('', raw);
    body.appendChild(field('Action (JSON)', raw));
    read = () => {
      try {
        const v = JSON.parse(raw.value) as unknown;
        if (isObject(v)) return v;
      } catch {
        // reported below
      }
      throw new Error(`Action ${index() + 1} is not a JSON object.`);
    };
  }
  const row: Row = { el: fieldset, read: () => read(), controls };
  remove.addEventListener('click', () => onRemove(row));
  const relabel = (): void => {
    remove.setAttribute('aria-label', `Remove action ${index() + 1}: ${title}`);
    legend.textContent = `Action ${index() + 1}: ${title}`;
  };
  fieldset.addEventListener('relabel', relabel);
  return row;
}

export function actionsEditor(types: readonly ActionType[], initial: readonly unknown[]): ActionsEditor {
  const rows: Row[] = [];
  const list = h('div', { class: 'rule-actions' });
  const listError = h('p', { class: 'field-error', id: uniqueId('act-err') });
  const empty = h('p', { class: 'hint' }, 'No actions: the rule only records that it fired.');
  const addType = select(types.map((a) => [a.type, a.title] as const), types[0]?.type ?? '', {});
  const relabel = (): void => {
    for (const r of rows) r.el.dispatchEvent(new Event('relabel'));
    empty.hidden = rows.length > 0;
  };
  const addRow = (action: Record<string, unknown>): Row => {
    const row = actionRow(() => rows.indexOf(row), action, types.find((t) => t.type === action.type), (r) => {
      rows.splice(rows.indexOf(r), 1);
      r.el.remove();
      relabel();
    });
    rows.push(row);
    list.appendChild(row.el);
    relabel();
    return row;
  };
  for (const a of initial) addRow(isObject(a) ? a : { type: String(a) });
  relabel();
  const add = h('button', {
    type: 'button',
    onclick: () => {
      const def = types.find((a) => a.type === addType.value);
      if (!def) return;
      const row = addRow({ type: def.type, ...(isObject(def.defaults) ? def.defaults : {}) });
      row.el.querySelector<HTMLElement>('input, select, textarea')?.focus();
    },
  }, 'Add action');
  const el = h(
    'div',
    { class: 'actions-editor', role: 'group', 'aria-label': 'Actions', 'aria-describedby': listError.id },
    h('h3', null, 'Actions'),
    empty,
    list,
    listError,
    types.length ? h('div', { class: 'toolbar' }, field('Action type', addType), add) : null,
  );
  return {
    el,
    value: () => rows.map((r) => r.read()),
    markError(path, message) {
      const m = /^actions(?:\[(\d+)\](?:\.([\w$]+))?)?/.exec(path);
      if (!m) return false;
      const row = m[1] !== undefined ? rows[Number(m[1])] : undefined;
      const control = row ? (row.controls.get(m[2] ?? '') ?? row.controls.get('') ?? row.el.querySelector<HTMLElement>('input, select, textarea')) : undefined;
      if (!control) {
        listError.textContent = message;
        el.setAttribute('aria-invalid', 'true');
        return true;
      }
      const msg = h('p', { class: 'field-error action-error', id: uniqueId('act-err') }, message);
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-errormessage', msg.id);
      (control.closest('.field, .check') ?? control).appendChild(msg);
      control.focus();
      return true;
    },
    clearErrors() {
      listError.textContent = '';
      el.removeAttribute('aria-invalid');
      for (const e of el.querySelectorAll('.action-error')) e.remove();
      for (const c of el.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    },
  };
}
