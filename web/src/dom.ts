/**
 * A tiny element builder: h('button', { class: 'primary', onclick: go }, 'Sign in'). Children that
 * are strings become text nodes, never markup: device- and user-controlled text (names, labels,
 * attribute values, alarm details) is safe to pass. Event handlers are functions only, and URL
 * attributes take only http(s), mailto and same-document/relative links (no `javascript:`).
 */
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);
export type Attrs = Record<string, AttrValue>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
      // An on* attribute given as a string would be inline script (and is refused by the CSP anyway).
      else if (/^on/i.test(name)) throw new TypeError(`h(): ${name} must be a function`);
      else if (URL_ATTRIBUTES.has(name.toLowerCase()) && !isSafeUrl(String(value))) continue;
      else if (name === 'class') el.className = String(value);
      else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
      else el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

const URL_ATTRIBUTES: ReadonlySet<string> = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'data']);
const SAFE_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:']);

/** True for links that cannot run script: relative, #fragment, or http(s)/mailto. */
export function isSafeUrl(value: string): boolean {
  try {
    return SAFE_SCHEMES.has(new URL(value, location.href).protocol);
  } catch {
    return false;
  }
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.textContent = '';
  append(parent, children);
}

let uid = 0;
/** A fresh element id, for label/for and aria-describedby pairs. */
export function uniqueId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled control: <div class="field"><label for>…</label>control</div>. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (!control.id) control.id = uniqueId('f');
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  if (hint) {
    const hintEl = h('small', { id: `${control.id}-hint`, class: 'hint' }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    wrap.appendChild(hintEl);
  }
  return wrap;
}

export function select(options: readonly (readonly [string, string])[], value: string, attrs: Attrs = {}): HTMLSelectElement {
  const el = h('select', attrs, options.map(([v, text]) => h('option', { value: v }, text)));
  el.value = value;
  return el;
}

/** "12 s ago", "3 min ago", … with the exact time in a title. */
export function relativeTime(ts: number | null | undefined, now = Date.now()): string {
  if (ts === null || ts === undefined) return 'never';
  const s = Math.round((now - ts) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function timeEl(ts: number | null | undefined): HTMLTimeElement {
  const el = h('time', ts ? { datetime: new Date(ts).toISOString(), title: new Date(ts).toLocaleString(), 'data-ts': ts } : {}, relativeTime(ts));
  return el;
}

/** Refreshes every <time data-ts> under root (relative times age). */
export function refreshTimes(root: ParentNode): void {
  const now = Date.now();
  for (const el of root.querySelectorAll<HTMLTimeElement>('time[data-ts]')) el.textContent = relativeTime(Number(el.dataset.ts), now);
}

export function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function badge(text: string, kind: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** Why a child device is offline, in words; null when there is nothing to add to "offline". */
export function offlineNote(reason: string | null | undefined): string | null {
  if (reason === 'gateway_offline') return 'gateway offline';
  if (reason === 'device_disconnected') return 'not answering its gateway';
  return null;
}

/** The online/offline badge, with the reason beside it for children (gateway offline, field device not answering). */
export function statusBadge(d: { readonly online: boolean; readonly offlineReason?: string | null }): HTMLElement {
  const note = d.online ? null : offlineNote(d.offlineReason);
  const b = badge(d.online ? 'online' : 'offline', d.online ? 'online' : 'offline');
  if (!note) return b;
  return h('span', null, b, ' ', h('small', { class: 'offline-reason' }, note));
}
