/** Vending machines that report their stock and tell the supplier when to come. */
import type { ScenarioPack } from '../types.js';
import { vendingMachine } from './model.js';
import { vendingTwin } from './twin.js';

const PROFILE = 'vending-machine';

export const vending: ScenarioPack = {
  name: 'vending',
  title: 'Vending machines',
  summary:
    'Vending machines report the stock of each slot, sales, cash and cooler temperature. When a slot runs low the platform ' +
    'raises a LowStock alarm and, with an SMSC configured (notify.smpp), texts the supplier; a warm cooler raises CoolingFailure. ' +
    'Restocking from the dashboard (or the supplier\'s visit) clears the alarm.',
  m2m:
    'The M2M form has each machine text "STOCK 3" to the supplier\'s phone when a slot runs low: one machine, one number, ' +
    'no overview of the route, sales or cash. The IoT form collects every machine\'s state, so restocking can be planned ' +
    'for the whole route and the data feeds sales analytics.',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'stockA', type: 'number' },
        { key: 'stockB', type: 'number' },
        { key: 'stockC', type: 'number' },
        { key: 'sales', type: 'number' },
        { key: 'cash', type: 'number', unit: 'EUR' },
        { key: 'temperature', type: 'number', unit: '°C' },
      ],
      controls: [{ label: 'Restock all', kind: 'button', method: 'restock' }],
    },
  ],
  devices: [{ prefix: 'vend', profile: PROFILE, model: 'vending-machine', count: 5, intervalS: 1, serverAttributes: { supplierPhone: '+4915550001' } }],
  rules: [
    {
      name: 'Low stock',
      description: 'A slot with fewer than 3 items: LowStock alarm, cleared after restocking.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'stockA < 3 || stockB < 3 || stockC < 3',
      actions: [{ type: 'alarm', alarmType: 'LowStock', severity: 'warning', details: { stockA: '${stockA}', stockB: '${stockB}', stockC: '${stockC}' } }],
    },
    {
      name: 'Low stock SMS to supplier',
      description: 'Texts the supplier (server attribute supplierPhone). Needs an SMSC (notify.smpp); enabled by the demo when one is running.',
      enabled: false,
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'stockA < 3 || stockB < 3 || stockC < 3',
      actions: [{ type: 'sms', to: '${attr("supplierPhone")}', text: '${deviceName}: STOCK A ${stockA} B ${stockB} C ${stockC}' }],
    },
    {
      name: 'Cooling failure',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'temperature > 8',
      for: '10s',
      actions: [{ type: 'alarm', alarmType: 'CoolingFailure', severity: 'major', details: { temperature: '${temperature}' } }],
    },
  ],
  dashboard: {
    name: 'Vending route',
    description: 'Stock and cash of every machine on the route',
    widgets: [
      { type: 'value', title: 'Machine 1 stock', device: 'vend-1', keys: ['stockA', 'stockB', 'stockC'], x: 0, y: 0, w: 4, h: 2 },
      { type: 'control', title: 'Machine 1 restock', device: 'vend-1', control: { kind: 'button', method: 'restock' }, x: 4, y: 0, w: 2, h: 2 },
      { type: 'value', title: 'Machine 1 cash', device: 'vend-1', keys: ['cash', 'sales'], x: 6, y: 0, w: 2, h: 2 },
      { type: 'alarms', title: 'Route alarms', x: 8, y: 0, w: 4, h: 6 },
      { type: 'chart', title: 'Machine 1 stock', device: 'vend-1', keys: ['stockA', 'stockB', 'stockC'], range: '1h', x: 0, y: 2, w: 8, h: 4 },
    ],
  },
  models: { 'vending-machine': vendingMachine },
  demoSpeed: 600,
  characteristic: { rule: 'Low stock', alarm: 'LowStock' },
  twin: vendingTwin,
};
