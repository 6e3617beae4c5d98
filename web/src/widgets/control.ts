/**
 * Command controls: a button sends its params once, a toggle sends {on}, a slider {value}. Each
 * shows the state of the latest command of its method (QUEUED … SUCCESSFUL, live) and, when the
 * spec names a `stateKey`, the device's current value of it, which is what a toggle's position shows.
 * Commands are persistent with a short expiry: a press while the device is briefly away is delivered
 * when it is back, not an hour later.
 */
import { sendCommand, type Command, type ControlSpec, type Widget } from '../api.js';
import { badge, formatValue, h, replaceChildren, uniqueId } from '../dom.js';
import { live } from '../live.js';
import { errorText, latestFeed, numeric, type WidgetHandle } from './feed.js';

const EXPIRES_MS = 60_000;
const FINAL_OK = 'SUCCESSFUL';
const FINAL_BAD = new Set(['FAILED', 'TIMEOUT', 'EXPIRED']);

function truthy(value: unknown): boolean {
  if (typeof value === 'string') return ['on', 'true', '1', 'open', 'running'].includes(value.trim().toLowerCase());
  return numeric(value) !== null ? numeric(value) !== 0 : Boolean(value);
}

/** One control of a device; `label` names it (the profile's label or the widget title). */
/** `showLabel` false: the label only names the input for assistive technology (a widget's title shows it). */
export function controlView(deviceId: string, spec: ControlSpec, label: string, showLabel = true): WidgetHandle {
  const stateOut = h('output', { class: 'control-value', 'data-key': spec.stateKey ?? '' }, spec.stateKey ? '—' : '');
  const status = h('span', { class: 'command-state', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  let shownAt = 0;
  let on = false;

  function showCommand(c: Command): void {
    if (c.method !== spec.method || c.updatedAt < shownAt) return;
    shownAt = c.updatedAt;
    status.dataset.status = c.status;
    replaceChildren(status, badge(c.status, c.status === FINAL_OK ? 'ok' : FINAL_BAD.has(c.status) ? 'bad' : 'pending'), c.error ? ` ${c.error}` : '');
  }
  function send(params: unknown): void {
    error.textContent = '';
    sendCommand(deviceId, { method: spec.method, params, persistent: true, expiresInMs: EXPIRES_MS })
      .then(showCommand)
      .catch((err: unknown) => (error.textContent = errorText(err)));
  }

  let input: HTMLElement;
  if (spec.kind === 'toggle') {
    const sw = h('button', { type: 'button', role: 'switch', 'aria-checked': 'false', class: 'toggle' }, h('span', { class: 'knob', 'aria-hidden': 'true' }), h('span', { class: 'toggle-text' }, 'Off'));
    sw.addEventListener('click', () => {
      setOn(!on);
      send({ ...(typeof spec.params === 'object' && spec.params !== null ? spec.params : {}), on });
    });
    input = sw;
  } else if (spec.kind === 'slider') {
    const id = uniqueId('slider');
    const range = h('input', { id, type: 'range', min: spec.min ?? 0, max: spec.max ?? 100, step: spec.step ?? 1, value: spec.min ?? 0 });
    const shown = h('output', { for: id }, range.value);
    range.addEventListener('input', () => (shown.textContent = range.value));
    range.addEventListener('change', () => send({ value: Number(range.value) }));
    input = h('span', { class: 'slider' }, range, shown);
  } else {
    input = h('button', { type: 'button', class: 'primary', onclick: () => send(spec.params ?? {}) }, label);
  }

  function setOn(value: boolean): void {
    on = value;
    if (spec.kind !== 'toggle') return;
    input.setAttribute('aria-checked', String(value));
    const text = input.querySelector('.toggle-text');
    if (text) text.textContent = value ? 'On' : 'Off';
  }

  const el = h(
    'div',
    { class: `control control-${spec.kind}`, 'data-method': spec.method },
    h('div', { class: 'control-row' }, spec.kind === 'button' ? null : h('span', { class: showLabel ? 'control-label' : 'visually-hidden' }, label), input, spec.stateKey ? h('span', { class: 'hint' }, `${spec.stateKey}: `, stateOut) : null),
    h('div', { class: 'control-status' }, status),
    error,
  );
  if (spec.kind !== 'button') input.setAttribute('aria-label', label);

  const offCommands = live.subscribe({ type: 'commands', deviceId }, (m) => showCommand(m.data as Command), () => (el.dataset.live = 'ready'));
  const offState = spec.stateKey
    ? latestFeed(h('span'), deviceId, [spec.stateKey], (_k, point) => {
        stateOut.textContent = formatValue(point.value);
        if (spec.kind === 'toggle') setOn(truthy(point.value));
        if (spec.kind === 'slider') {
          const v = numeric(point.value);
          const range = input.querySelector('input');
          if (range && v !== null && document.activeElement !== range) range.value = String(v);
        }
      })
    : () => undefined;
  return {
    el,
    dispose: () => {
      offCommands();
      offState();
    },
  };
}

export function controlWidget(w: Widget): WidgetHandle {
  if (!w.deviceId || !w.control) return { el: h('p', { class: 'hint' }, 'Choose a device and a command.'), dispose: () => undefined };
  return controlView(w.deviceId, w.control, w.title || w.control.method, !w.title);
}
