/**
 * The smart-meters M2M twin: SDM-style electricity meters on a Modbus RTU line read by the edge
 * gateway; the platform sheds a household's charger (the meter's load relay, coil 0) when the
 * power goes over the connection's limit.
 */
import type { PackTwin } from '../types.js';

export const smartMetersTwin: PackTwin = {
  summary: 'two SDM-style meters on Modbus RTU (a socat pty line), load relay on coil 0',
  edgeConfig: 'examples/edge/smart-meters-m2m.yaml',
  profiles: [
    {
      name: 'sdm-meter',
      telemetryKeys: [
        { key: 'voltage', type: 'number', unit: 'V' },
        { key: 'current', type: 'number', unit: 'A' },
        { key: 'power', type: 'number', unit: 'W' },
        { key: 'frequency', type: 'number', unit: 'Hz' },
        { key: 'importEnergy', type: 'number', unit: 'kWh' },
        { key: 'loadRelay', type: 'boolean' },
      ],
      controls: [{ label: 'Load relay', kind: 'toggle', method: 'setLoadRelay', stateKey: 'loadRelay' }],
    },
  ],
  children: [{ name: 'meter-rtu-1', profile: 'sdm-meter' }, { name: 'meter-rtu-2', profile: 'sdm-meter' }],
  rules: [
    {
      name: 'Overload: shed the charger',
      description: 'Power above the 7 kW connection limit while the load relay is closed: open it (coil 0) and raise Overload.',
      profile: 'sdm-meter',
      trigger: 'telemetry',
      condition: 'power > 7000 && loadRelay == true',
      actions: [
        { type: 'command', method: 'setLoadRelay', params: { value: false }, persistent: true },
        { type: 'alarm', alarmType: 'Overload', severity: 'warning', details: { power: '${power}' } },
      ],
    },
  ],
  characteristic: { device: 'meter-rtu-1', rule: 'Overload: shed the charger', command: 'setLoadRelay', key: 'power' },
};
