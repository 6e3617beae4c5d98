/**
 * Remote patient monitoring. IoT form: wearables stream vital signs; the platform alerts
 * caregivers when SpO2 falls or the heart rate races, with the history at hand.
 */
import type { ScenarioPack } from '../types.js';
import { ecgRecorder, wearable } from './model.js';
import { patientMonitoringTwin } from './twin.js';

export const patientMonitoring: ScenarioPack = {
  name: 'patient-monitoring',
  title: 'Remote patient monitoring',
  summary:
    'Wearables report heart rate, SpO2, skin temperature and battery every second. The platform raises a critical LowSpO2 alarm ' +
    'when the SpO2 average of the last 3 readings falls below 90 %, a Tachycardia alarm above 120 bpm held for 5 s, and a ' +
    'LowBattery warning; caregivers see the alarm list and each patient\'s trends. ECG recorders upload record summaries over HTTP.',
  m2m:
    'The M2M twin is the ECG recorder that uploads its records to one hospital server over HTTP at intervals: data arrives, is ' +
    'filed and read later by a clinician. The IoT form watches every patient continuously, alerts the moment a value goes ' +
    'wrong and shows the same data to every caregiver who needs it.',
  profiles: [
    {
      name: 'wearable',
      telemetryKeys: [
        { key: 'heartRate', type: 'number', unit: 'bpm' },
        { key: 'spo2', type: 'number', unit: '%' },
        { key: 'bodyTemp', type: 'number', unit: '°C' },
        { key: 'battery', type: 'number', unit: '%' },
      ],
    },
    {
      name: 'ecg-recorder',
      telemetryKeys: [
        { key: 'ecgHeartRate', type: 'number', unit: 'bpm' },
        { key: 'ecgRecord', type: 'json' },
      ],
    },
  ],
  devices: [
    { prefix: 'patient', profile: 'wearable', model: 'wearable', count: 4, intervalS: 1 },
    { prefix: 'ecg', profile: 'ecg-recorder', model: 'ecg-recorder', count: 1, intervalS: 10, protocol: 'http' },
  ],
  rules: [
    {
      name: 'Low SpO2',
      description: 'SpO2 average of the last 3 readings below 90 %: critical alarm for the caregivers.',
      profile: 'wearable',
      trigger: 'telemetry',
      condition: 'avg(spo2, 3) < 90',
      actions: [{ type: 'alarm', alarmType: 'LowSpO2', severity: 'critical', details: { spo2: '${spo2}', heartRate: '${heartRate}' } }],
    },
    {
      name: 'Tachycardia',
      profile: 'wearable',
      trigger: 'telemetry',
      condition: 'heartRate > 120',
      for: '5s',
      actions: [{ type: 'alarm', alarmType: 'Tachycardia', severity: 'major', details: { heartRate: '${heartRate}' } }],
    },
    {
      name: 'Wearable battery low',
      profile: 'wearable',
      trigger: 'telemetry',
      condition: 'battery < 15',
      actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'warning', details: { battery: '${battery}' } }],
    },
  ],
  dashboard: {
    name: 'Patients',
    description: 'Vital signs and alerts of every monitored patient',
    widgets: [
      { type: 'alarms', title: 'Caregiver alerts', x: 0, y: 0, w: 4, h: 6 },
      { type: 'value', title: 'Patient 1', device: 'patient-1', keys: ['heartRate', 'spo2', 'bodyTemp'], x: 4, y: 0, w: 4, h: 2 },
      { type: 'gauge', title: 'Patient 1 SpO2', device: 'patient-1', keys: ['spo2'], min: 70, max: 100, unit: '%', x: 8, y: 0, w: 4, h: 2 },
      { type: 'chart', title: 'Patient 1 vitals', device: 'patient-1', keys: ['heartRate', 'spo2'], range: '1h', x: 4, y: 2, w: 8, h: 4 },
    ],
  },
  models: { wearable, 'ecg-recorder': ecgRecorder },
  demoSpeed: 10,
  characteristic: { rule: 'Low SpO2', alarm: 'LowSpO2' },
  twin: patientMonitoringTwin,
};
