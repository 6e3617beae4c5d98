/**
 * What a Continuum device is to Alexa: its profile's command controls (the same ones the dashboard
 * offers) read as Alexa capabilities. A `toggle` control is an Alexa.PowerController (TurnOn/Off
 * send its method with {on}); a `slider` that sets a temperature (its state key has a temperature
 * unit, or its label or method says setpoint/thermostat/temperature) is an
 * Alexa.ThermostatController (SetTargetTemperature sends {value} in °C, within the slider's
 * bounds); a numeric telemetry key in a temperature unit is an Alexa.TemperatureSensor; a
 * `thermostatMode` key reports the thermostat's mode; every endpoint has Alexa.EndpointHealth.
 * Buttons (scenes) are not exposed.
 */
import type { ProfileControl } from '../../domain/dashboard.js';
import type { Device, DeviceProfile } from '../../domain/device.js';
import type { TsValue } from '../../domain/telemetry.js';
import { capability, type AlexaProperty } from '../../protocols/alexa/v3.js';

export interface EndpointModel {
  readonly power?: { readonly control: ProfileControl; readonly stateKey?: string };
  readonly thermostat?: { readonly control: ProfileControl; readonly stateKey?: string; readonly min: number; readonly max: number; readonly modeKey?: string };
  readonly temperatureKey?: string;
  readonly fahrenheit: boolean;
}

const TEMPERATURE_UNITS = new Set(['°c', 'c', 'cel', '℃', '°f', 'f', '℉', 'degc', 'degf']);
const THERMOSTAT_WORDS = /setpoint|thermostat|temperature/i;
const ALEXA_MODES = new Set(['HEAT', 'COOL', 'AUTO', 'ECO', 'OFF']);

function isTemperatureUnit(unit: string | undefined): boolean {
  return unit !== undefined && TEMPERATURE_UNITS.has(unit.trim().toLowerCase());
}

/** The Alexa view of a profile; undefined when it offers nothing Alexa can drive. */
export function modelOf(profile: DeviceProfile): EndpointModel | undefined {
  const controls = profile.controls ?? [];
  const unitOf = (key: string | undefined) => profile.telemetryKeys.find((k) => k.key === key)?.unit;
  const toggle = controls.find((c) => c.kind === 'toggle');
  const slider = controls.find((c) => c.kind === 'slider' && (isTemperatureUnit(unitOf(c.stateKey)) || THERMOSTAT_WORDS.test(`${c.label} ${c.method}`)));
  if (!toggle && !slider) return undefined;
  const modeKey = profile.telemetryKeys.find((k) => k.key === 'thermostatMode')?.key;
  const sensor = profile.telemetryKeys.find((k) => k.type === 'number' && k.key !== slider?.stateKey && (isTemperatureUnit(k.unit) || k.key === 'temperature'));
  const fahrenheit = /f|℉/i.test(unitOf(sensor?.key ?? slider?.stateKey) ?? '');
  return {
    ...(toggle ? { power: { control: toggle, ...(toggle.stateKey ? { stateKey: toggle.stateKey } : {}) } } : {}),
    ...(slider
      ? { thermostat: { control: slider, ...(slider.stateKey ? { stateKey: slider.stateKey } : {}), min: slider.min ?? 0, max: slider.max ?? 100, ...(modeKey ? { modeKey } : {}) } }
      : {}),
    ...(sensor ? { temperatureKey: sensor.key } : {}),
    fahrenheit,
  };
}

/** The telemetry keys whose latest values make the endpoint's state. */
export function stateKeys(model: EndpointModel): string[] {
  return [model.power?.stateKey, model.thermostat?.stateKey, model.thermostat?.modeKey, model.temperatureKey].filter((k): k is string => k !== undefined);
}

/** One Alexa endpoint of Discover.Response. */
export function discoveryEndpoint(device: Device, profile: DeviceProfile, model: EndpointModel): Record<string, unknown> {
  const capabilities = [capability('Alexa')];
  if (model.power) capabilities.push(capability('Alexa.PowerController', ['powerState']));
  if (model.thermostat) {
    const modes = model.thermostat.modeKey ? ['thermostatMode'] : [];
    capabilities.push(capability('Alexa.ThermostatController', ['targetSetpoint', ...modes], { configuration: { supportsScheduling: false } }));
  }
  if (model.temperatureKey) capabilities.push(capability('Alexa.TemperatureSensor', ['temperature']));
  capabilities.push(capability('Alexa.EndpointHealth', ['connectivity']));
  const category = model.thermostat ? 'THERMOSTAT' : model.power ? 'SWITCH' : 'TEMPERATURE_SENSOR';
  return {
    endpointId: device.id,
    manufacturerName: 'Continuum',
    // Names are chosen by users and devices: bounded, and only ever sent as JSON text.
    friendlyName: (device.label ?? device.name).slice(0, 128),
    description: `${profile.name} (Continuum device ${device.name})`.slice(0, 128),
    displayCategories: [category],
    capabilities,
  };
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === 'true' || value === 'on' || value === 'ON' || value === '1';
}

function sample(now: number, ts: number): Pick<AlexaProperty, 'timeOfSample' | 'uncertaintyInMilliseconds'> {
  return { timeOfSample: new Date(ts).toISOString(), uncertaintyInMilliseconds: Math.max(0, now - ts) };
}

/**
 * The endpoint's properties from the latest values (a key never reported is left out) and its
 * connectivity. `override` replaces values just set by a directive (sampled now).
 */
export function propertiesOf(model: EndpointModel, latest: Readonly<Record<string, TsValue>>, online: boolean, now: number, override: { power?: boolean; setpoint?: number } = {}): AlexaProperty[] {
  const out: AlexaProperty[] = [];
  const scale = model.fahrenheit ? 'FAHRENHEIT' : 'CELSIUS';
  const at = (key: string | undefined) => (key !== undefined ? latest[key] : undefined);
  if (model.power) {
    const point = at(model.power.stateKey);
    if (override.power !== undefined) out.push({ namespace: 'Alexa.PowerController', name: 'powerState', value: override.power ? 'ON' : 'OFF', ...sample(now, now) });
    else if (point) out.push({ namespace: 'Alexa.PowerController', name: 'powerState', value: truthy(point.value) ? 'ON' : 'OFF', ...sample(now, point.ts) });
  }
  if (model.thermostat) {
    const point = at(model.thermostat.stateKey);
    if (override.setpoint !== undefined) out.push({ namespace: 'Alexa.ThermostatController', name: 'targetSetpoint', value: { value: override.setpoint, scale: 'CELSIUS' }, ...sample(now, now) });
    else if (point && typeof point.value === 'number') out.push({ namespace: 'Alexa.ThermostatController', name: 'targetSetpoint', value: { value: point.value, scale }, ...sample(now, point.ts) });
    const mode = at(model.thermostat.modeKey);
    const modeValue = typeof mode?.value === 'string' ? mode.value.toUpperCase() : undefined;
    if (mode && modeValue && ALEXA_MODES.has(modeValue)) out.push({ namespace: 'Alexa.ThermostatController', name: 'thermostatMode', value: modeValue, ...sample(now, mode.ts) });
  }
  const temperature = at(model.temperatureKey);
  if (temperature && typeof temperature.value === 'number') out.push({ namespace: 'Alexa.TemperatureSensor', name: 'temperature', value: { value: temperature.value, scale }, ...sample(now, temperature.ts) });
  out.push({ namespace: 'Alexa.EndpointHealth', name: 'connectivity', value: { value: online ? 'OK' : 'UNREACHABLE' }, ...sample(now, now) });
  return out;
}
