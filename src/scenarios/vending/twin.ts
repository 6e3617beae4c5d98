/**
 * The vending M2M twin: machines text their stock to the operator's GSM modem on the edge; the
 * platform texts the supplier's phone, through the same modem, when a slot runs low.
 */
import type { PackTwin } from '../types.js';

export const vendingTwin: PackTwin = {
  summary: 'two machines texting STOCK/TEMP to a GSM modem (AT over a socat pty) on a simulated SMSC, and the supplier phone',
  edgeConfig: 'examples/edge/vending-m2m.yaml',
  profiles: [
    {
      name: 'vending-sms',
      telemetryKeys: [
        { key: 'slot1', type: 'number' },
        { key: 'slot2', type: 'number' },
        { key: 'slot3', type: 'number' },
        { key: 'coolerTemp', type: 'number', unit: '°C' },
      ],
    },
    { name: 'supplier-phone' },
  ],
  children: [{ name: 'vending-sms-1', profile: 'vending-sms' }, { name: 'vending-sms-2', profile: 'vending-sms' }, { name: 'supplier-phone', profile: 'supplier-phone' }],
  rules: [
    {
      name: 'Low stock: text the supplier',
      description: 'A slot below 3 items: SMS to the supplier phone (a device of the edge) and a LowStock alarm.',
      profile: 'vending-sms',
      trigger: 'telemetry',
      condition: 'slot1 < 3 || slot2 < 3 || slot3 < 3',
      actions: [
        { type: 'command', device: 'supplier-phone', method: 'notify', params: { text: 'REFILL ${deviceName} ${slot1},${slot2},${slot3}' }, persistent: true },
        { type: 'alarm', alarmType: 'LowStock', severity: 'warning', details: { slot1: '${slot1}', slot2: '${slot2}', slot3: '${slot3}' } },
      ],
    },
  ],
  characteristic: { device: 'vending-sms-1', rule: 'Low stock: text the supplier', command: 'notify', key: 'slot2' },
};
