/**
 * The smart-home M2M twin: a room's heating controller on BACnet/IP behind the edge gateway; the
 * platform's thermostat rules open and shut its heating valve (WriteProperty, priority 8).
 */
import type { PackTwin } from '../types.js';

export const smartHomeTwin: PackTwin = {
  summary: 'a BACnet/IP heating controller (room temperature, setpoint, heating valve) on 127.0.0.1',
  edgeConfig: 'examples/edge/smart-home-m2m.yaml',
  profiles: [
    {
      name: 'heating-controller',
      telemetryKeys: [
        { key: 'roomTemp', type: 'number', unit: '°C' },
        { key: 'setpoint', type: 'number', unit: '°C' },
        { key: 'heating', type: 'boolean' },
      ],
    },
  ],
  children: [{ name: 'heating-1', profile: 'heating-controller' }],
  rules: [
    {
      name: 'Heat when cold',
      description: 'Room half a degree below the setpoint and the valve shut: open the heating valve.',
      profile: 'heating-controller',
      trigger: 'telemetry',
      condition: 'roomTemp < setpoint - 0.5 && heating != true',
      actions: [{ type: 'command', method: 'heatingOn', params: {}, persistent: true }],
    },
    {
      name: 'Stop heating when warm',
      description: 'Room half a degree above the setpoint and the valve open: shut it.',
      profile: 'heating-controller',
      trigger: 'telemetry',
      condition: 'roomTemp > setpoint + 0.5 && heating == true',
      actions: [{ type: 'command', method: 'heatingOff', params: {}, persistent: true }],
    },
  ],
  characteristic: { device: 'heating-1', rule: 'Heat when cold', command: 'heatingOn', key: 'roomTemp' },
};
