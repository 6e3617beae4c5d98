/**
 * The factory M2M twin: a PLC on Modbus TCP driving two presses, polled by the edge. The
 * over-temperature interlock stays local (an edge rule stops the press, platform or not); the
 * platform adds what the plant's SCADA lacks — it sees the worn bearing's vibration in ISO 10816
 * zone C and lowers that press's load setpoint over the same Modbus connection.
 */
import type { PackTwin } from '../types.js';

const PROFILE = 'press';

export const factoryTwin: PackTwin = {
  summary: 'one PLC on Modbus TCP driving two presses (vibration, bearing temperature, load setpoint, run coil), a local over-temperature interlock',
  edgeConfig: 'examples/edge/factory-m2m.yaml',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'vibration', type: 'number', unit: 'mm/s' },
        { key: 'bearingTemp', type: 'number', unit: '°C' },
        { key: 'rpm', type: 'number', unit: 'rpm' },
        { key: 'load', type: 'number', unit: '%' },
        { key: 'running', type: 'boolean' },
      ],
      controls: [
        { label: 'Reduce load', kind: 'button', method: 'reduceLoad', params: { value: 60 } },
        { label: 'Stop', kind: 'button', method: 'stop', stateKey: 'running' },
        { label: 'Start', kind: 'button', method: 'start' },
      ],
    },
  ],
  children: [{ name: 'press-1', profile: PROFILE }, { name: 'press-2', profile: PROFILE }],
  rules: [
    {
      name: 'Bearing wear: reduce load',
      description: 'Vibration above 4.5 mm/s (ISO 10816 class II, zone C) while running: load setpoint to 60 % and a BearingWear alarm.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'running == true && vibration > 4.5',
      actions: [
        { type: 'command', method: 'reduceLoad', params: { value: 60 }, persistent: true },
        { type: 'alarm', alarmType: 'BearingWear', severity: 'major', details: { vibration: '${vibration}', bearingTemp: '${bearingTemp}' } },
      ],
      autoClear: false,
    },
    {
      name: 'Press stopped',
      description: 'A press that stopped (the local interlock tripped, or someone stopped it): critical alarm until it runs again.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'running == false',
      actions: [{ type: 'alarm', alarmType: 'MachineStopped', severity: 'critical', details: { bearingTemp: '${bearingTemp}' } }],
    },
  ],
  characteristic: { device: 'press-1', rule: 'Bearing wear: reduce load', command: 'reduceLoad', key: 'vibration' },
};
