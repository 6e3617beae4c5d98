/**
 * The smart-farm M2M twin: a GSM pump controller in the field texts its soil moisture and pump
 * state to the farm gateway's number (the edge's SMS connector on the operator's SMSC); the
 * platform irrigates a dry field by sending setPump, which the edge texts as "PUMP ON" — a
 * command the controller obeys only because it comes from the gateway's whitelisted number.
 */
import type { PackTwin } from '../types.js';

const PROFILE = 'gsm-pump-controller';

export const smartFarmTwin: PackTwin = {
  summary: 'a GSM pump controller (relay, soil probe, SIM) on a simulated SMSC, texting SOIL/PUMP status and obeying whitelisted PUMP ON/OFF',
  edgeConfig: 'examples/edge/smart-farm-m2m.yaml',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'soilMoisture', type: 'number', unit: '%' },
        { key: 'pump', type: 'boolean' },
      ],
      controls: [{ label: 'Pump', kind: 'toggle', method: 'setPump', stateKey: 'pump' }],
    },
  ],
  children: [{ name: 'pump-gsm-1', profile: PROFILE }],
  rules: [
    {
      name: 'Irrigate when dry (SMS)',
      description: 'Soil below 30 % with the pump off: text PUMP ON to the controller and raise DrySoil.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'soilMoisture < 30 && pump == false',
      actions: [
        { type: 'command', method: 'setPump', params: { on: true }, persistent: true },
        { type: 'alarm', alarmType: 'DrySoil', severity: 'warning', details: { moisture: '${soilMoisture}' } },
      ],
    },
    {
      name: 'Stop irrigation when wet (SMS)',
      description: 'Pump running and soil back above 45 %: text PUMP OFF.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'pump == true && soilMoisture >= 45',
      actions: [{ type: 'command', method: 'setPump', params: { on: false }, persistent: true }],
    },
  ],
  characteristic: { device: 'pump-gsm-1', rule: 'Irrigate when dry (SMS)', command: 'setPump', key: 'soilMoisture' },
};
