/**
 * The patient-monitoring M2M twin: bedside monitors sending binary vital-sign frames on a serial
 * line, read by the edge's frames connector; the platform sounds the bedside nurse call (a
 * command frame back down the line) when SpO2 drops.
 */
import type { PackTwin } from '../types.js';

export const patientMonitoringTwin: PackTwin = {
  summary: 'two bedside monitors sending binary vitals frames (CRC-16) on a serial line (a socat pty)',
  edgeConfig: 'examples/edge/patient-monitoring-m2m.yaml',
  profiles: [
    {
      name: 'bedside-monitor',
      telemetryKeys: [
        { key: 'heartRate', type: 'number', unit: 'bpm' },
        { key: 'spo2', type: 'number', unit: '%' },
        { key: 'respRate', type: 'number', unit: '/min' },
        { key: 'temperature', type: 'number', unit: '°C' },
        { key: 'nurseCall', type: 'boolean' },
      ],
    },
  ],
  children: [{ name: 'bedside-1', profile: 'bedside-monitor' }, { name: 'bedside-2', profile: 'bedside-monitor' }],
  rules: [
    {
      name: 'Bedside SpO2 low: nurse call',
      description: 'SpO2 below 90 % at a bedside monitor: sound its nurse call (a command frame) and raise LowSpO2.',
      profile: 'bedside-monitor',
      trigger: 'telemetry',
      condition: 'spo2 < 90 && nurseCall != true',
      actions: [
        { type: 'command', method: 'nurseCall', params: {}, persistent: true },
        { type: 'alarm', alarmType: 'LowSpO2', severity: 'critical', details: { spo2: '${spo2}' } },
      ],
    },
  ],
  characteristic: { device: 'bedside-1', rule: 'Bedside SpO2 low: nurse call', command: 'nurseCall', key: 'spo2' },
};
