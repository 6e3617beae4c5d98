/** The smart home: sensors and switches linked by rules, remote control and scenes. */
import type { PackRule, ScenarioPack } from '../types.js';
import { hub, motionSensor, smartSwitch } from './model.js';
import { smartHomeTwin } from './twin.js';

const LIGHTS = ['light-1', 'light-2', 'light-3'];
const allLights = (on: boolean): PackRule['actions'] => LIGHTS.map((device) => ({ type: 'command', device, method: 'setSwitch', params: { on }, persistent: true }));

export const smartHome: ScenarioPack = {
  name: 'smart-home',
  title: 'Smart home',
  summary:
    'Motion sensors, switched lights and a hub. A motion sensor in the dark switches its linked light on (server attribute ' +
    'linkedSwitch) and off again when the room is empty; the owner switches lights from the dashboard, and scenes on the hub ' +
    '("away", "night") switch every light off at once.',
  m2m:
    'The M2M form is a wired link: a motion detector hard-wired to one lamp, or a timer. It works without a network but cannot ' +
    'be changed, combined or controlled from outside the house; the IoT form makes the same link a rule that can be edited, ' +
    'combined with scenes and overridden remotely.',
  profiles: [
    {
      name: 'motion-sensor',
      telemetryKeys: [
        { key: 'motion', type: 'boolean' },
        { key: 'lux', type: 'number', unit: 'lx' },
        { key: 'temperature', type: 'number', unit: '°C' },
      ],
    },
    {
      name: 'smart-switch',
      telemetryKeys: [
        { key: 'on', type: 'boolean' },
        { key: 'powerW', type: 'number', unit: 'W' },
      ],
      controls: [{ label: 'Light', kind: 'toggle', method: 'setSwitch', stateKey: 'on' }],
    },
    {
      name: 'home-hub',
      telemetryKeys: [{ key: 'scene', type: 'string' }],
      controls: [
        { label: 'Away', kind: 'button', method: 'setScene', params: { name: 'away' }, stateKey: 'scene' },
        { label: 'Night', kind: 'button', method: 'setScene', params: { name: 'night' } },
        { label: 'Home', kind: 'button', method: 'setScene', params: { name: 'home' } },
      ],
    },
  ],
  devices: [
    { prefix: 'motion', profile: 'motion-sensor', model: 'motion-sensor', count: 3, intervalS: 1, serverAttributes: { linkedSwitch: 'light-{n}' } },
    { prefix: 'light', profile: 'smart-switch', model: 'smart-switch', count: 3, intervalS: 5 },
    { prefix: 'hub', profile: 'home-hub', model: 'home-hub', count: 1, intervalS: 5 },
  ],
  rules: [
    {
      name: 'Light on motion',
      description: 'Motion in the dark: switch the linked light on; off when the motion ends.',
      profile: 'motion-sensor',
      trigger: 'telemetry',
      condition: 'motion && lux < 80',
      actions: [{ type: 'command', device: '${attr("linkedSwitch")}', method: 'setSwitch', params: { on: true }, persistent: true }],
      clearActions: [{ type: 'command', device: '${attr("linkedSwitch")}', method: 'setSwitch', params: { on: false }, persistent: true }],
    },
    {
      name: 'Scene: away or night',
      description: 'The hub switches to "away" or "night": every light off.',
      profile: 'home-hub',
      trigger: 'telemetry',
      condition: 'scene == "away" || scene == "night"',
      actions: allLights(false),
    },
  ],
  dashboard: {
    name: 'Home',
    description: 'Lights, motion and scenes',
    widgets: [
      { type: 'control', title: 'Hall light', device: 'light-1', control: { kind: 'toggle', method: 'setSwitch', stateKey: 'on' }, x: 0, y: 0, w: 3, h: 2 },
      { type: 'control', title: 'Kitchen light', device: 'light-2', control: { kind: 'toggle', method: 'setSwitch', stateKey: 'on' }, x: 3, y: 0, w: 3, h: 2 },
      { type: 'control', title: 'Living room light', device: 'light-3', control: { kind: 'toggle', method: 'setSwitch', stateKey: 'on' }, x: 6, y: 0, w: 3, h: 2 },
      { type: 'control', title: 'Scene: away', device: 'hub-1', control: { kind: 'button', method: 'setScene', params: { name: 'away' }, stateKey: 'scene' }, x: 9, y: 0, w: 3, h: 2 },
      { type: 'value', title: 'Hall', device: 'motion-1', keys: ['motion', 'lux', 'temperature'], x: 0, y: 2, w: 4, h: 2 },
      { type: 'chart', title: 'Hall light power', device: 'light-1', keys: ['powerW'], range: '1h', x: 4, y: 2, w: 8, h: 3 },
    ],
  },
  models: { 'motion-sensor': motionSensor, 'smart-switch': smartSwitch, 'home-hub': hub },
  demoSpeed: 10,
  characteristic: { rule: 'Light on motion', command: 'setSwitch' },
  twin: smartHomeTwin,
};
