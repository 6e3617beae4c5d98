/**
 * Fleet tracking. IoT form: vans report position, speed and fuel; the platform draws them on the
 * map, checks them against geofences and reports stops where no stop is allowed.
 */
import type { ScenarioPack } from '../types.js';
import { van } from './model.js';
import { fleetTwin } from './twin.js';

const PROFILE = 'vehicle';
/** A square of ±`d` degrees around a point, as a polygon. */
const square = ([lat, lon]: readonly [number, number], d = 0.0008): number[][] => [
  [lat - d, lon - d], [lat - d, lon + d], [lat + d, lon + d], [lat + d, lon - d],
];

/** The depot yard and the customers' loading zones: where a van may stand with the engine on. */
const ALLOWED_STOPS = [square([52.52, 13.405], 0.001), square([52.534, 13.412]), square([52.527, 13.386])];
/** Service area: a van outside it is off its route. */
const SERVICE_AREA = [
  [52.5150, 13.3800], [52.5150, 13.4250], [52.5400, 13.4250], [52.5400, 13.3800],
];

export const fleet: ScenarioPack = {
  name: 'fleet',
  title: 'Fleet tracking',
  summary:
    'Delivery vans report GPS position, speed, fuel and ignition every second. The map shows them live with their tracks; ' +
    'rules raise an UnauthorizedStop alarm when a van stands still with the engine running outside the depot and the ' +
    'customer stops, GeofenceExit when it leaves the service area, and LowFuel. The dispatcher can immobilize a van.',
  m2m:
    'The M2M twin is a GSM tracker that texts "POS lat,lon speed" to a fixed number at intervals: the control room sees a ' +
    'list of messages per vehicle, one sender at a time, with no map, history queries or automatic geofence checks. The IoT ' +
    'form turns positions into data that rules and maps work on across the whole fleet.',
  profiles: [
    {
      name: PROFILE,
      telemetryKeys: [
        { key: 'latitude', type: 'number', unit: '°' },
        { key: 'longitude', type: 'number', unit: '°' },
        { key: 'speed', type: 'number', unit: 'km/h' },
        { key: 'fuel', type: 'number', unit: '%' },
        { key: 'ignition', type: 'boolean' },
        { key: 'odometer', type: 'number', unit: 'km' },
      ],
      controls: [
        { label: 'Immobilize', kind: 'button', method: 'immobilize', stateKey: 'ignition' },
        { label: 'Release', kind: 'button', method: 'release' },
      ],
    },
  ],
  devices: [
    {
      prefix: 'van',
      profile: PROFILE,
      model: 'van',
      count: 5,
      intervalS: 1,
      serverAttributes: { allowedStops: ALLOWED_STOPS, serviceArea: SERVICE_AREA, geofence: SERVICE_AREA },
    },
  ],
  rules: [
    {
      name: 'Unauthorized stop',
      description: 'Standing still with the engine on for 5 s outside the depot and the loading zones.',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'ignition && speed < 2 && !inside(latitude, longitude, attr("allowedStops"))',
      for: '5s',
      actions: [{ type: 'alarm', alarmType: 'UnauthorizedStop', severity: 'major', details: { latitude: '${latitude}', longitude: '${longitude}' } }],
    },
    {
      name: 'Left service area',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: '!inside(latitude, longitude, attr("serviceArea"))',
      actions: [{ type: 'alarm', alarmType: 'GeofenceExit', severity: 'warning', details: { latitude: '${latitude}', longitude: '${longitude}' } }],
    },
    {
      name: 'Low fuel',
      profile: PROFILE,
      trigger: 'telemetry',
      condition: 'fuel < 15',
      actions: [{ type: 'alarm', alarmType: 'LowFuel', severity: 'minor', details: { fuel: '${fuel}' } }],
    },
  ],
  dashboard: {
    name: 'Fleet',
    description: 'Where every van is, and what needs attention',
    widgets: [
      { type: 'map', title: 'Vans', keys: ['latitude', 'longitude'], x: 0, y: 0, w: 8, h: 6 },
      { type: 'alarms', title: 'Fleet alarms', x: 8, y: 0, w: 4, h: 6 },
      { type: 'value', title: 'Van 1', device: 'van-1', keys: ['speed', 'fuel', 'ignition'], x: 0, y: 6, w: 4, h: 2 },
      { type: 'chart', title: 'Van 1 speed', device: 'van-1', keys: ['speed'], range: '1h', x: 4, y: 6, w: 8, h: 3 },
    ],
  },
  models: { van },
  demoSpeed: 10,
  characteristic: { rule: 'Unauthorized stop', alarm: 'UnauthorizedStop' },
  twin: fleetTwin,
};
