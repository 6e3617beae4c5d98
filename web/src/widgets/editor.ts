/**
 * The composer's widget form: type, title, device (searched by name), keys, size, and what the
 * type needs (gauge bounds, chart range, the command of a control). "Add widget" emits a Widget
 * placed at the left edge below everything else; the same form, filled from a widget, edits it
 * (widgets/edit-dialog.ts) and keeps its id and place.
 */
import { get, query, type ControlSpec, type Device, type Page, type Widget, type WidgetType } from '../api.js';
import { debounce, field, h, select, uniqueId } from '../dom.js';
import { errorText } from './feed.js';
import { WIDGET_LABELS } from './index.js';

const SIZES: Record<WidgetType, [number, number]> = { value: [3, 2], gauge: [3, 3], chart: [6, 4], map: [6, 4], alarms: [6, 3], control: [3, 2], table: [4, 3], bar: [4, 3], timeline: [6, 2] };
const RANGE_CHOICES = [['1h', '1 hour'], ['6h', '6 hours'], ['24h', '24 hours'], ['7d', '7 days'], ['30d', '30 days'], ['365d', '1 year']] as const;

function num(input: HTMLInputElement): number | undefined {
  return input.value.trim() === '' ? undefined : Number(input.value);
}

async function findDevice(name: string): Promise<Device | undefined> {
  const page = await get<Page<Device>>(`/api/devices${query({ search: name, limit: 50 })}`);
  return page.items.find((d) => d.name === name) ?? (page.items.length === 1 ? page.items[0] : undefined);
}

export interface WidgetFormOptions {
  onSubmit(w: Widget): void;
  nextY(): number;
  /** The widget being edited: fields start from it, and its id and place are kept. */
  initial?: Widget;
}

export function widgetForm({ onSubmit, nextY, initial }: WidgetFormOptions): HTMLFormElement {
  const label = initial ? 'Edit widget' : 'Add widget';
  const type = select(Object.entries(WIDGET_LABELS) as [string, string][], 'value', { name: 'type' });
  const title = h('input', { name: 'title', maxlength: 255, autocomplete: 'off' });
  const devices = h('datalist', { id: uniqueId('composer-devices') });
  const device = h('input', { name: 'device', list: devices.id, autocomplete: 'off', placeholder: 'search by name' });
  const keyList = h('datalist', { id: uniqueId('composer-keys') });
  const keys = h('input', { name: 'keys', list: keyList.id, autocomplete: 'off', placeholder: 'temperature, humidity' });
  const width = select(Array.from({ length: 12 }, (_, i) => [String(i + 1), String(i + 1)] as const), '3', { name: 'w' });
  const height = select(Array.from({ length: 8 }, (_, i) => [String(i + 1), String(i + 1)] as const), '2', { name: 'h' });
  const unit = h('input', { name: 'unit', maxlength: 32, autocomplete: 'off' });
  const min = h('input', { name: 'min', type: 'number', step: 'any' });
  const max = h('input', { name: 'max', type: 'number', step: 'any' });
  const range = select(RANGE_CHOICES, '24h', { name: 'range' });
  const kind = select([['button', 'Button'], ['toggle', 'Toggle'], ['slider', 'Slider']], 'toggle', { name: 'kind' });
  const method = h('input', { name: 'method', maxlength: 255, autocomplete: 'off', placeholder: 'e.g. setPump' });
  const stateKey = h('input', { name: 'stateKey', maxlength: 255, autocomplete: 'off', placeholder: 'e.g. pump' });
  const params = h('input', { name: 'params', autocomplete: 'off', placeholder: '{"percent": 100}' });
  const step = h('input', { name: 'step', type: 'number', step: 'any' });
  const error = h('p', { class: 'form-error', role: 'alert' });

  const bounds = h('div', { class: 'toolbar' }, field('Unit', unit), field('Min', min), field('Max', max));
  const chartOnly = h('div', { class: 'toolbar' }, field('Range', range));
  const control = h('div', { class: 'toolbar' }, field('Control', kind), field('Method', method), field('State key', stateKey), field('Params (JSON, button)', params), field('Step (slider)', step));
  function showFor(resize = true): void {
    const t = type.value as WidgetType;
    bounds.hidden = !['value', 'gauge', 'chart', 'control', 'table', 'bar'].includes(t);
    chartOnly.hidden = t !== 'chart' && t !== 'timeline';
    control.hidden = t !== 'control';
    if (!resize) return;
    const [w, hh] = SIZES[t];
    width.value = String(w);
    height.value = String(hh);
  }
  type.addEventListener('change', () => showFor());

  const fillDevices = debounce(() => {
    get<Page<Device>>(`/api/devices${query({ search: device.value.trim(), limit: 20 })}`)
      .then((page) => devices.replaceChildren(...page.items.map((d) => h('option', { value: d.name }, d.label ?? ''))))
      .catch(() => undefined);
  }, 250);
  device.addEventListener('input', fillDevices);
  device.addEventListener('change', () => {
    void findDevice(device.value.trim())
      .then((d) => (d ? get<string[]>(`/api/devices/${encodeURIComponent(d.id)}/telemetry/keys`) : []))
      .then((ks) => keyList.replaceChildren(...ks.map((k) => h('option', { value: k }))))
      .catch(() => undefined);
  });

  // The edited widget's device until its name has been read (or the field was changed by hand).
  let pendingDeviceId = initial?.deviceId;
  device.addEventListener('input', () => (pendingDeviceId = undefined));

  async function build(): Promise<Widget> {
    const t = type.value as WidgetType;
    const name = device.value.trim();
    const found = name ? await findDevice(name) : undefined;
    if (name && !found) throw new Error(`No device named "${name}".`);
    const keyList = keys.value.split(',').map((k) => k.trim()).filter(Boolean);
    let spec: ControlSpec | undefined;
    if (t === 'control') {
      let parsed: unknown;
      if (params.value.trim()) parsed = JSON.parse(params.value) as unknown;
      spec = {
        kind: kind.value as ControlSpec['kind'],
        method: method.value.trim(),
        ...(stateKey.value.trim() ? { stateKey: stateKey.value.trim() } : {}),
        ...(parsed !== undefined ? { params: parsed } : {}),
        ...(num(min) !== undefined ? { min: num(min) } : {}),
        ...(num(max) !== undefined ? { max: num(max) } : {}),
        ...(num(step) !== undefined ? { step: num(step) } : {}),
      };
    }
    return {
      type: t,
      title: title.value.trim() || (spec?.method ?? keyList.join(', ')) || WIDGET_LABELS[t],
      ...(found ? { deviceId: found.id } : pendingDeviceId ? { deviceId: pendingDeviceId } : {}),
      ...(keyList.length ? { keys: keyList } : {}),
      ...(t !== 'control' && unit.value.trim() ? { unit: unit.value.trim() } : {}),
      ...(t !== 'control' && num(min) !== undefined ? { min: num(min) } : {}),
      ...(t !== 'control' && num(max) !== undefined ? { max: num(max) } : {}),
      ...(t === 'chart' || t === 'timeline' ? { range: range.value } : {}),
      ...(spec ? { control: spec } : {}),
      ...(initial?.id !== undefined ? { id: initial.id } : {}),
      x: initial ? Math.min(initial.x, 12 - Number(width.value)) : 0,
      y: initial ? initial.y : nextY(),
      w: Number(width.value),
      h: Number(height.value),
    };
  }

  const form = h(
    'form',
    {
      class: 'widget-form',
      'aria-label': label,
      onsubmit: (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        build()
          .then((w) => {
            onSubmit(w);
            if (!initial) title.value = '';
          })
          .catch((err: unknown) => (error.textContent = errorText(err)));
      },
    },
    h('div', { class: 'toolbar' }, field('Type', type), field('Title', title), field('Device', device), field('Keys (comma-separated)', keys), field('Width (of 12)', width), field('Height', height)),
    devices,
    keyList,
    bounds,
    chartOnly,
    control,
    h('button', { type: 'submit', class: 'primary' }, initial ? 'Apply' : 'Add widget'),
    error,
  );
  if (initial) {
    fill(initial);
    showFor(false);
  } else showFor();
  fillDevices();
  return form;

  function fill(w: Widget): void {
    type.value = w.type;
    title.value = w.title;
    keys.value = (w.keys ?? []).join(', ');
    width.value = String(w.w);
    // Heights above the list's 8 (set by dragging) stay choosable.
    if (w.h > 8) height.appendChild(h('option', { value: String(w.h) }, String(w.h)));
    height.value = String(w.h);
    unit.value = w.unit ?? '';
    const c = w.control;
    min.value = String(w.min ?? c?.min ?? '');
    max.value = String(w.max ?? c?.max ?? '');
    if (w.range) range.value = w.range;
    if (c) {
      kind.value = c.kind;
      method.value = c.method;
      stateKey.value = c.stateKey ?? '';
      params.value = c.params === undefined ? '' : JSON.stringify(c.params);
      step.value = String(c.step ?? '');
    }
    if (w.deviceId) {
      get<Device>(`/api/devices/${encodeURIComponent(w.deviceId)}`)
        .then((d) => {
          if (!device.value) device.value = d.name;
          pendingDeviceId = undefined;
          device.dispatchEvent(new Event('change'));
        })
        .catch(() => undefined);
    }
  }
}
