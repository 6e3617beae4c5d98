/** Smart meters: periodic batched readings, the device of ThingsBoard's own performance tests. */
import type { ScenarioPack } from '../types.js';
import { meter } from './model.js';
import { smartMetersTwin } from './twin.js';

const PROFILE = 'smart-meter';

export const smartMeters: ScenarioPack = {
  name: 'smart-meters',
  title: 'Smart meters',
  summary:
    'Meters (CoAP, as battery meters on NB-IoT are) take a reading every second and send them four at a time as one [{ts, values}] batch — cumulative energy, power, ' +
    'consumption since the last reading, voltage, water volume, a leak flag and battery. Rules raise a Leak alarm, LowBattery ' +
    'and Overvoltage; the dashboard charts consumption with hourly aggregation.',
  m2m:
    'The M2M form is automated meter reading: a drive-by or a data concentrator collects registers once a month for billing. ' +
    'The IoT form gets interval data continuously, which is what makes leak detection, hourly profiles and demand response possible.',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'energyKwh', type: 'number', unit: 'kWh' },
        { key: 'powerW', type: 'number', unit: 'W' },
        { key: 'consumptionKwh', type: 'number', unit: 'kWh' },
        { key: 'voltage', type: 'number', unit: 'V' },
        { key: 'waterM3', type: 'number', unit: 'm³' },
        { key: 'leak', type: 'boolean' },
        { key: 'battery', type: 'number', unit: '%' },
      ],
    },
  ],
  devices: [{ prefix: 'meter', profile: PROFILE, model: 'meter', count: 10, intervalS: 1, batch: 4, protocol: 'coap' }],
  rules: [
    {
      name: 'Water leak',
      description: 'The meter reports continuous flow (leak flag): major alarm until it stops.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'leak == true',
      actions: [{ type: 'alarm', alarmType: 'Leak', severity: 'major', details: { waterM3: '${waterM3}' } }],
    },
    {
      name: 'Meter battery low',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'battery < 20',
      actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'warning', details: { battery: '${battery}' } }],
    },
    {
      name: 'Overvoltage',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'avg(voltage, 10) > 253',
      actions: [{ type: 'alarm', alarmType: 'Overvoltage', severity: 'major', details: { voltage: '${voltage}' } }],
    },
  ],
  dashboard: {
    name: 'Smart meters',
    description: 'Consumption and alerts of the metered households',
    widgets: [
      { type: 'value', title: 'Meter 1', device: 'meter-1', keys: ['energyKwh', 'powerW', 'leak'], x: 0, y: 0, w: 4, h: 2 },
      { type: 'gauge', title: 'Meter 1 power', device: 'meter-1', keys: ['powerW'], min: 0, max: 5000, unit: 'W', x: 4, y: 0, w: 4, h: 2 },
      { type: 'alarms', title: 'Meter alarms', x: 8, y: 0, w: 4, h: 6 },
      { type: 'chart', title: 'Meter 1 power', device: 'meter-1', keys: ['powerW'], range: '24h', x: 0, y: 2, w: 8, h: 4 },
    ],
  },
  models: { meter },
  demoSpeed: 60,
  characteristic: { rule: 'Water leak', alarm: 'Leak' },
  twin: smartMetersTwin,
};
