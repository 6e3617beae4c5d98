/**
 * The Alexa Smart Home skill endpoint (issue 18 item 8): directive fixtures written from Alexa's
 * documented v3 shapes (test/fixtures/alexa/), posted to POST /api/alexa/v3; the device is a real
 * MQTT.js client that receives the commands.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type mqtt from 'mqtt';
import { apiClient, connectMqtt, eventually, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

type Json = Record<string, unknown>;
type Event = { event: { header: { namespace: string; name: string; correlationToken?: string; payloadVersion: string }; endpoint?: { endpointId: string }; payload: Json }; context?: { properties: { namespace: string; name: string; value: unknown; timeOfSample: string }[] } };

/** A fixture with its "${NAME}" strings replaced (values keep their JSON type). */
function fixture(name: string, vars: Record<string, unknown>): Json {
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const m = /^\$\{(\w+)\}$/.exec(v);
      return m && m[1] !== undefined && m[1] in vars ? vars[m[1]] : v;
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(JSON.parse(readFileSync(new URL(`../fixtures/alexa/${name}.json`, import.meta.url), 'utf8'))) as Json;
}

describe('Alexa Smart Home skill endpoint', () => {
  let p: TestPlatform;
  let key: string;
  let viewerKey: string;
  let keyB: string;
  let thermo: { id: string; accessToken: string };
  let plain: { id: string };
  let otherTenantDevice: { id: string };
  let device: mqtt.MqttClient | undefined;
  const rpcs: { method: string; params: Json }[] = [];

  async function directive(body: Json): Promise<Event> {
    const res = await fetch(`${p.baseUrl}/api/alexa/v3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    return (await res.json()) as Event;
  }
  const prop = (e: Event, ns: string, name: string) => e.context?.properties.find((x) => x.namespace === ns && x.name === name)?.value;
  const errorType = (e: Event) => (e.event.header.name === 'ErrorResponse' ? e.event.payload.type : `not an error: ${e.event.header.namespace}.${e.event.header.name}`);

  async function newKey(api: ApiClient, role?: string): Promise<string> {
    const res = await api.request<{ key: string }>('POST', '/api/auth/api-keys', { name: `alexa-${role ?? 'own'}`, ...(role ? { role } : {}) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.key;
  }

  before(async () => {
    p = await startTestPlatform();
    const profile = await p.api.request<{ id: string }>('POST', '/api/profiles', {
      name: 'thermostat',
      telemetryKeys: [
        { key: 'on', type: 'boolean' },
        { key: 'setpoint', type: 'number', unit: '°C' },
        { key: 'temperature', type: 'number', unit: '°C' },
        { key: 'thermostatMode', type: 'string' },
      ],
      controls: [
        { label: 'Heating', kind: 'toggle', method: 'setHeating', stateKey: 'on' },
        { label: 'Setpoint', kind: 'slider', method: 'setSetpoint', stateKey: 'setpoint', min: 10, max: 30, step: 0.5 },
      ],
    });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    thermo = await p.api.createDevice('Living room thermostat', { profileId: profile.body.id });
    plain = await p.api.createDevice('plain meter');
    key = await newKey(p.api);
    viewerKey = await newKey(p.api, 'viewer');
    const tenant = await p.api.request<{ id: string }>('POST', '/api/tenants', { name: 'Home B' });
    const admin = { email: 'alexa-b@test.local', password: 'alexa-b-password-1' };
    assert.equal((await p.api.request('POST', `/api/tenants/${tenant.body.id}/users`, { ...admin, role: 'tenant-admin' })).status, 201);
    const b = await apiClient(p.baseUrl, admin);
    const profileB = await b.request<{ id: string }>('POST', '/api/profiles', { name: 'switch', telemetryKeys: [{ key: 'on', type: 'boolean' }], controls: [{ label: 'Power', kind: 'toggle', method: 'setSwitch', stateKey: 'on' }] });
    otherTenantDevice = await b.createDevice('b-switch', { profileId: profileB.body.id });
    keyB = await newKey(b);
  });
  after(async () => {
    await device?.endAsync();
    await p.stop();
  });

  it('Discover: the tenant’s devices whose profile has controls, with Power/Thermostat/TemperatureSensor/EndpointHealth capabilities', async () => {
    const e = await directive(fixture('discover', { TOKEN: key }));
    assert.deepEqual([e.event.header.namespace, e.event.header.name, e.event.header.payloadVersion], ['Alexa.Discovery', 'Discover.Response', '3']);
    const endpoints = e.event.payload.endpoints as { endpointId: string; friendlyName: string; displayCategories: string[]; capabilities: { interface: string; properties?: { supported: { name: string }[] } }[] }[];
    assert.deepEqual(endpoints.map((x) => x.endpointId), [thermo.id]);
    const [ep] = endpoints;
    assert.equal(ep?.friendlyName, 'Living room thermostat');
    assert.deepEqual(ep?.displayCategories, ['THERMOSTAT']);
    const caps = Object.fromEntries((ep?.capabilities ?? []).map((c) => [c.interface, (c.properties?.supported ?? []).map((s) => s.name)]));
    assert.deepEqual(caps, {
      Alexa: [],
      'Alexa.PowerController': ['powerState'],
      'Alexa.ThermostatController': ['targetSetpoint', 'thermostatMode'],
      'Alexa.TemperatureSensor': ['temperature'],
      'Alexa.EndpointHealth': ['connectivity'],
    });
    assert.equal(JSON.stringify(e).includes(plain.id), false);
    assert.equal(JSON.stringify(e).includes(otherTenantDevice.id), false);
    // A sign-in token links as well; the other tenant sees only its own device.
    const login = (await (await fetch(`${p.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@test.local', password: 'test-password-1' }) })).json()) as { token: string };
    const byJwt = await directive(fixture('discover', { TOKEN: login.token }));
    assert.deepEqual((byJwt.event.payload.endpoints as { endpointId: string }[]).map((x) => x.endpointId), [thermo.id]);
    const ofB = await directive(fixture('discover', { TOKEN: keyB }));
    assert.deepEqual((ofB.event.payload.endpoints as { endpointId: string }[]).map((x) => x.endpointId), [otherTenantDevice.id]);
  });

  it('ReportState from the latest values; TurnOn/TurnOff and SetTargetTemperature reach the device as commands and answer Alexa.Response with context', async () => {
    device = await connectMqtt(p.ports.mqtt, { username: thermo.accessToken });
    device.on('message', (topic, payload) => {
      if (topic.startsWith('v1/devices/me/rpc/request/')) rpcs.push(JSON.parse(payload.toString()) as { method: string; params: Json });
    });
    await device.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
    await device.publishAsync('v1/devices/me/telemetry', JSON.stringify({ on: false, setpoint: 20, temperature: 19.5, thermostatMode: 'heat' }), { qos: 1 });

    const state = await directive(fixture('report-state', { TOKEN: key, ENDPOINT: thermo.id }));
    assert.deepEqual([state.event.header.namespace, state.event.header.name, state.event.header.correlationToken, state.event.endpoint?.endpointId], ['Alexa', 'StateReport', 'corr-report-state-1', thermo.id]);
    assert.equal(prop(state, 'Alexa.PowerController', 'powerState'), 'OFF');
    assert.deepEqual(prop(state, 'Alexa.ThermostatController', 'targetSetpoint'), { value: 20, scale: 'CELSIUS' });
    assert.equal(prop(state, 'Alexa.ThermostatController', 'thermostatMode'), 'HEAT');
    assert.deepEqual(prop(state, 'Alexa.TemperatureSensor', 'temperature'), { value: 19.5, scale: 'CELSIUS' });
    assert.deepEqual(prop(state, 'Alexa.EndpointHealth', 'connectivity'), { value: 'OK' });
    assert.ok(state.context?.properties.every((x) => !Number.isNaN(Date.parse(x.timeOfSample))));

    const on = await directive(fixture('turn-on', { TOKEN: key, ENDPOINT: thermo.id }));
    assert.deepEqual([on.event.header.namespace, on.event.header.name, on.event.header.correlationToken], ['Alexa', 'Response', 'corr-turn-on-1']);
    assert.equal(prop(on, 'Alexa.PowerController', 'powerState'), 'ON');
    await eventually(async () => (rpcs.length >= 1 ? true : undefined), 5000, 'TurnOn at the device');
    assert.deepEqual(rpcs[0], { method: 'setHeating', params: { on: true } });
    const off = await directive(fixture('turn-off', { TOKEN: key, ENDPOINT: thermo.id }));
    assert.equal(prop(off, 'Alexa.PowerController', 'powerState'), 'OFF');

    const set = await directive(fixture('set-target-temperature', { TOKEN: key, ENDPOINT: thermo.id, VALUE: 22.5, SCALE: 'CELSIUS' }));
    assert.equal(set.event.header.name, 'Response');
    assert.deepEqual(prop(set, 'Alexa.ThermostatController', 'targetSetpoint'), { value: 22.5, scale: 'CELSIUS' });
    const setF = await directive(fixture('set-target-temperature', { TOKEN: key, ENDPOINT: thermo.id, VALUE: 68, SCALE: 'FAHRENHEIT' }));
    assert.deepEqual(prop(setF, 'Alexa.ThermostatController', 'targetSetpoint'), { value: 20, scale: 'CELSIUS' });
    await eventually(async () => (rpcs.length >= 4 ? true : undefined), 5000, 'four commands at the device');
    assert.deepEqual(rpcs.slice(1), [
      { method: 'setHeating', params: { on: false } },
      { method: 'setSetpoint', params: { value: 22.5 } },
      { method: 'setSetpoint', params: { value: 20 } },
    ]);
    // The command history names who asked.
    const history = await p.api.request<{ items: { origin?: string; status: string }[] }>('GET', `/api/commands?deviceId=${thermo.id}`);
    assert.ok(history.body.items.length >= 4 && history.body.items.every((c) => c.origin?.startsWith('alexa:') && c.status === 'DELIVERED'), JSON.stringify(history.body));

    const tooHot = await directive(fixture('set-target-temperature', { TOKEN: key, ENDPOINT: thermo.id, VALUE: 40, SCALE: 'CELSIUS' }));
    assert.equal(errorType(tooHot), 'TEMPERATURE_VALUE_OUT_OF_RANGE');
    assert.deepEqual(tooHot.event.payload.validRange, { minimumValue: { value: 10, scale: 'CELSIUS' }, maximumValue: { value: 30, scale: 'CELSIUS' } });
    assert.equal(rpcs.length, 4, 'nothing sent for a refused setpoint');
  });

  it('errors are Alexa.ErrorResponse: bad credential, unknown or foreign endpoint, unsupported directive, missing permission, offline device', async () => {
    const bad = await directive(fixture('turn-on', { TOKEN: 'ck_not-a-key', ENDPOINT: thermo.id }));
    assert.equal(errorType(bad), 'INVALID_AUTHORIZATION_CREDENTIAL');
    assert.equal(bad.event.header.correlationToken, 'corr-turn-on-1');
    assert.equal(errorType(await directive(fixture('discover', { TOKEN: 'eyJhbGciOiJIUzI1NiJ9.e30.forged' }))), 'INVALID_AUTHORIZATION_CREDENTIAL');
    const noScope = fixture('discover', {});
    delete ((noScope.directive as Json).payload as Json).scope;
    assert.equal(errorType(await directive(noScope)), 'INVALID_AUTHORIZATION_CREDENTIAL');
    assert.equal(errorType(await directive(fixture('turn-on', { TOKEN: key, ENDPOINT: '00000000-0000-4000-8000-00000000dead' }))), 'NO_SUCH_ENDPOINT');
    // Another tenant's device is as absent as a missing one, and nothing is sent to it.
    assert.equal(errorType(await directive(fixture('turn-on', { TOKEN: key, ENDPOINT: otherTenantDevice.id }))), 'NO_SUCH_ENDPOINT');
    assert.equal(errorType(await directive(fixture('report-state', { TOKEN: keyB, ENDPOINT: thermo.id }))), 'NO_SUCH_ENDPOINT');
    // A device without controls is no endpoint.
    assert.equal(errorType(await directive(fixture('report-state', { TOKEN: key, ENDPOINT: plain.id }))), 'NO_SUCH_ENDPOINT');
    assert.equal(errorType(await directive(fixture('set-thermostat-mode', { TOKEN: key, ENDPOINT: thermo.id }))), 'INVALID_DIRECTIVE');
    const v2 = fixture('discover', { TOKEN: key });
    ((v2.directive as Json).header as Json).payloadVersion = '2';
    assert.equal(errorType(await directive(v2)), 'INVALID_DIRECTIVE');
    assert.equal(errorType(await directive({ directive: { header: { namespace: 'Alexa' } } })), 'INVALID_DIRECTIVE');
    // A viewer's key discovers and reads, but may not operate.
    assert.equal((await directive(fixture('discover', { TOKEN: viewerKey }))).event.header.name, 'Discover.Response');
    assert.equal((await directive(fixture('report-state', { TOKEN: viewerKey, ENDPOINT: thermo.id }))).event.header.name, 'StateReport');
    assert.equal(errorType(await directive(fixture('turn-on', { TOKEN: viewerKey, ENDPOINT: thermo.id }))), 'INVALID_AUTHORIZATION_CREDENTIAL');
    // Not a directive envelope at all: a plain 400.
    const res = await fetch(`${p.baseUrl}/api/alexa/v3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":1}' });
    assert.equal(res.status, 400);

    // The device goes offline: control is ENDPOINT_UNREACHABLE, and ReportState says UNREACHABLE.
    await device?.endAsync();
    device = undefined;
    const sent = rpcs.length;
    await eventually(async () => {
      const e = await directive(fixture('report-state', { TOKEN: key, ENDPOINT: thermo.id }));
      return (prop(e, 'Alexa.EndpointHealth', 'connectivity') as { value: string }).value === 'UNREACHABLE' ? true : undefined;
    }, 10_000, 'device offline');
    const off = await directive(fixture('turn-off', { TOKEN: key, ENDPOINT: thermo.id }));
    assert.equal(errorType(off), 'ENDPOINT_UNREACHABLE');
    assert.equal(off.event.endpoint?.endpointId, thermo.id);
    assert.equal(rpcs.length, sent);
  });
});
