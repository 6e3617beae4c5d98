/**
 * The fleet M2M twin: GSM trackers text their positions to the control room's GSM modem on the
 * edge; the platform turns the texts into positions and speeds, and a van going too fast gets
 * "SPEED LIMIT 80" texted back to its tracker (whose governor obeys) through the same modem.
 */
import type { PackTwin } from '../types.js';

const PROFILE = 'gsm-tracker';

export const fleetTwin: PackTwin = {
  summary: 'two GSM trackers texting POS lat,lon speed to a GSM modem (AT over a socat pty) on a simulated SMSC, obeying SPEED LIMIT / IMMOBILIZE',
  edgeConfig: 'examples/edge/fleet-m2m.yaml',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'latitude', type: 'number', unit: '°' },
        { key: 'longitude', type: 'number', unit: '°' },
        { key: 'speed', type: 'number', unit: 'km/h' },
        { key: 'acknowledged', type: 'string' },
      ],
      controls: [{ label: 'Immobilize', kind: 'button', method: 'immobilize' }],
    },
  ],
  children: [{ name: 'van-gsm-1', profile: PROFILE }, { name: 'van-gsm-2', profile: PROFILE }],
  rules: [
    {
      name: 'Overspeed: text the speed limit',
      description: 'Faster than 80 km/h: SPEED LIMIT 80 texted to the tracker (its governor obeys) and an Overspeed alarm.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'speed > 80',
      actions: [
        { type: 'command', method: 'limitSpeed', params: { limit: 80 }, persistent: true },
        { type: 'alarm', alarmType: 'Overspeed', severity: 'major', details: { speed: '${speed}', latitude: '${latitude}', longitude: '${longitude}' } },
      ],
    },
  ],
  characteristic: { device: 'van-gsm-1', rule: 'Overspeed: text the speed limit', command: 'limitSpeed', key: 'speed' },
};
