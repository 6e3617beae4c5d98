/**
 * Smart farm irrigation, the seeds' first use case. IoT form: field controllers report soil and
 * weather data to the platform, which decides to irrigate from the readings and the weather
 * forecast and lets the farmer switch pumps from the dashboard.
 */
import type { ScenarioPack } from '../types.js';
import { fieldController } from './model.js';
import { smartFarmTwin } from './twin.js';

const PROFILE = 'field-controller';

export const smartFarm: ScenarioPack = {
  name: 'smart-farm',
  title: 'Smart farm irrigation',
  summary:
    'Field controllers report soil moisture, soil and air temperature, humidity and light. When a field is dry and no rain is ' +
    'forecast, the platform turns its pump on and raises a DrySoil warning; when the soil is wet again it turns the pump off. ' +
    'The farmer watches the fields and switches pumps from the dashboard; a weather integration sets the rainForecast attribute.',
  m2m:
    'The M2M twin is a GSM pump controller: a farmer texts "PUMP ON" to the SIM in the controller, which only obeys whitelisted ' +
    'numbers and answers with a status SMS. It works without any server, but knows nothing of soil moisture or forecasts and ' +
    'cannot be seen on a dashboard; the IoT form adds sensing, decisions from data, and remote visibility.',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'soilMoisture', type: 'number', unit: '%' },
        { key: 'soilTemperature', type: 'number', unit: '°C' },
        { key: 'airTemperature', type: 'number', unit: '°C' },
        { key: 'humidity', type: 'number', unit: '%' },
        { key: 'light', type: 'number', unit: 'lx' },
        { key: 'rain', type: 'boolean' },
        { key: 'pump', type: 'boolean' },
        { key: 'flowLpm', type: 'number', unit: 'l/min' },
        { key: 'battery', type: 'number', unit: '%' },
      ],
      controls: [{ label: 'Pump', kind: 'toggle', method: 'setPump', stateKey: 'pump' }],
    },
  ],
  devices: [{ prefix: 'field', profile: PROFILE, model: 'field-controller', count: 4, intervalS: 1, serverAttributes: { rainForecast: false } }],
  rules: [
    {
      name: 'Irrigate when dry',
      description: 'Soil below 30 % and no rain forecast: pump on and a DrySoil warning (cleared once the pump runs).',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'soilMoisture < 30 && !pump && attr("rainForecast") != true',
      for: '2s',
      actions: [
        { type: 'command', method: 'setPump', params: { on: true }, persistent: true },
        { type: 'alarm', alarmType: 'DrySoil', severity: 'warning', details: { moisture: '${soilMoisture}' } },
      ],
    },
    {
      name: 'Stop irrigation when wet',
      description: 'Pump running and soil back above 45 %: pump off.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'pump && soilMoisture >= 45',
      actions: [{ type: 'command', method: 'setPump', params: { on: false }, persistent: true }],
    },
  ],
  dashboard: {
    name: 'Smart farm',
    description: 'Soil moisture, weather and pumps of every field',
    widgets: [
      { type: 'value', title: 'Field 1 moisture', device: 'field-1', keys: ['soilMoisture'], unit: '%', x: 0, y: 0, w: 3, h: 2 },
      { type: 'control', title: 'Field 1 pump', device: 'field-1', control: { kind: 'toggle', method: 'setPump', stateKey: 'pump' }, x: 3, y: 0, w: 3, h: 2 },
      { type: 'gauge', title: 'Air temperature', device: 'field-1', keys: ['airTemperature'], min: -10, max: 45, unit: '°C', x: 6, y: 0, w: 3, h: 2 },
      { type: 'alarms', title: 'Alarms', x: 9, y: 0, w: 3, h: 4 },
      { type: 'chart', title: 'Field 1 soil moisture', device: 'field-1', keys: ['soilMoisture', 'humidity'], range: '1h', x: 0, y: 2, w: 9, h: 4 },
      { type: 'chart', title: 'Field 2 soil moisture', device: 'field-2', keys: ['soilMoisture'], range: '1h', x: 0, y: 6, w: 9, h: 4 },
    ],
  },
  models: { 'field-controller': fieldController },
  demoSpeed: 600,
  characteristic: { rule: 'Irrigate when dry', alarm: 'DrySoil', command: 'setPump' },
  twin: smartFarmTwin,
};
