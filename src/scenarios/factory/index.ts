/**
 * Predictive maintenance in a factory. IoT form: vibration, temperature and power of every motor
 * stream to the platform, which recognises slow bearing degradation and raises a maintenance
 * alarm days before the bearing would fail.
 */
import type { ScenarioPack } from '../types.js';
import { motor } from './model.js';
import { factoryTwin } from './twin.js';

const PROFILE = 'motor';

export const factory: ScenarioPack = {
  name: 'factory',
  title: 'Factory predictive maintenance',
  summary:
    'Motors report vibration (mm/s RMS), bearing temperature, power and speed. A slowly wearing bearing raises vibration long ' +
    'before it fails: the platform raises a BearingWear alarm and lowers the motor load when the vibration average crosses the ' +
    'ISO 10816 "unsatisfactory" zone, and a critical alarm if a motor stops. Maintenance replaces the bearing from the dashboard.',
  m2m:
    'The M2M twin is a PLC on Modbus read by a local SCADA screen through the edge gateway: the same registers, polled in the ' +
    'plant, with an over-temperature interlock that stops the machine locally. It reacts to thresholds that are already ' +
    'dangerous; the IoT form adds history across the fleet and trends that predict the failure.',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'vibration', type: 'number', unit: 'mm/s' },
        { key: 'bearingTemp', type: 'number', unit: '°C' },
        { key: 'powerKw', type: 'number', unit: 'kW' },
        { key: 'rpm', type: 'number', unit: 'rpm' },
        { key: 'running', type: 'boolean' },
        { key: 'operatingHours', type: 'number', unit: 'h' },
      ],
      controls: [
        { label: 'Reduce load', kind: 'button', method: 'reduceLoad', params: { load: 0.5 } },
        { label: 'Stop', kind: 'button', method: 'stop', stateKey: 'running' },
        { label: 'Replace bearing', kind: 'button', method: 'replaceBearing' },
      ],
    },
  ],
  devices: [{ prefix: 'machine', profile: PROFILE, model: 'motor', count: 5, intervalS: 1 }],
  rules: [
    {
      name: 'Bearing wear predicted',
      description: 'Average vibration of the last 5 readings above 4.5 mm/s (ISO 10816 class II, zone C): maintenance alarm and lower load.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'running && avg(vibration, 5) > 4.5',
      actions: [
        { type: 'alarm', alarmType: 'BearingWear', severity: 'major', details: { vibration: '${round(avg(vibration, 5), 2)}', bearingTemp: '${bearingTemp}' } },
        { type: 'command', method: 'reduceLoad', params: { load: 0.6 }, persistent: true },
      ],
      autoClear: false,
    },
    {
      name: 'Machine stopped',
      description: 'A motor that stops running raises a critical alarm until it runs again.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'running == false',
      actions: [{ type: 'alarm', alarmType: 'MachineStopped', severity: 'critical', details: { operatingHours: '${operatingHours}' } }],
    },
    {
      name: 'Bearing over-temperature',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'bearingTemp > 95',
      for: '5s',
      actions: [
        { type: 'alarm', alarmType: 'BearingOverTemperature', severity: 'critical', details: { bearingTemp: '${bearingTemp}' } },
        { type: 'command', method: 'stop', persistent: true },
      ],
    },
  ],
  dashboard: {
    name: 'Factory',
    description: 'Vibration and temperature trends of every motor',
    widgets: [
      { type: 'gauge', title: 'Machine 1 vibration', device: 'machine-1', keys: ['vibration'], min: 0, max: 12, unit: 'mm/s', x: 0, y: 0, w: 3, h: 3 },
      { type: 'value', title: 'Machine 1 bearing', device: 'machine-1', keys: ['bearingTemp', 'running'], x: 3, y: 0, w: 3, h: 3 },
      { type: 'control', title: 'Machine 1 maintenance', device: 'machine-1', control: { kind: 'button', method: 'replaceBearing' }, x: 6, y: 0, w: 3, h: 3 },
      { type: 'alarms', title: 'Maintenance alarms', x: 9, y: 0, w: 3, h: 6 },
      { type: 'chart', title: 'Machine 1 vibration trend', device: 'machine-1', keys: ['vibration'], range: '1h', x: 0, y: 3, w: 9, h: 4 },
      { type: 'chart', title: 'Machine 2 vibration trend', device: 'machine-2', keys: ['vibration'], range: '1h', x: 0, y: 7, w: 9, h: 4 },
    ],
  },
  models: { motor },
  demoSpeed: 60,
  characteristic: { rule: 'Bearing wear predicted', alarm: 'BearingWear', command: 'reduceLoad' },
  twin: factoryTwin,
};
