/**
 * FHIR R4 export (issue 18 item 7) against a FHIR server started here (fhir-server.ts: every
 * Bundle and resource checked against HL7's R4 JSON schema). Vitals are published by a real MQTT
 * client (mosquitto_pub) to the platform's broker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { apiClient, eventually, startTestPlatform, type ApiClient, type TestPlatform } from '../../support/platform.js';
import { schemaErrors, startFhirServer, type FhirServer, type Resource } from './fhir-server.js';

const run = promisify(execFile);
const LOCAL_PEERS = { outbound: { allow: ['127.0.0.1'] } };
const T0 = 1_765_000_000_000;

async function publish(p: TestPlatform, token: string, body: unknown): Promise<void> {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(p.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(body)]);
}

type Status = { state: string; backlog: number; sent: number; lastError?: string };
async function status(api: ApiClient, id: string): Promise<Status> {
  return (await api.request<{ status: Status }>('GET', `/api/integrations/${id}`)).body.status;
}

function codes(o: Resource): string[] {
  return ((o.code as { coding: { code: string }[] }).coding ?? []).map((c) => c.code);
}

describe('FHIR R4 integration', () => {
  let p: TestPlatform;
  let fhir: FhirServer;
  let tenantB: ApiClient;
  before(async () => {
    // Compiling HL7's schema takes seconds of CPU: done before the platform's clients are on this event loop.
    assert.deepEqual(schemaErrors({ resourceType: 'Patient', id: 'warm-up' }), []);
    p = await startTestPlatform({ config: LOCAL_PEERS });
    fhir = await startFhirServer();
    const tenant = await p.api.request<{ id: string }>('POST', '/api/tenants', { name: 'Clinic B' });
    const admin = { email: 'b-admin@test.local', password: 'b-admin-password-1' };
    assert.equal((await p.api.request('POST', `/api/tenants/${tenant.body.id}/users`, { ...admin, role: 'tenant-admin' })).status, 201);
    tenantB = await apiClient(p.baseUrl, admin);
  });
  after(async () => {
    await p.stop();
    await fhir.close();
  });

  it('refuses configs it cannot send safely: credentials in the URL, headers the link sets, unknown vitals', async () => {
    for (const config of [
      { url: 'http://user:pw@127.0.0.1:1/fhir' },
      { url: `http://127.0.0.1:${fhir.port}/fhir`, headers: { Host: 'evil' } },
      { url: `http://127.0.0.1:${fhir.port}/fhir`, headers: { 'x-a': 'b\r\nx-c: d' } },
      { url: `http://127.0.0.1:${fhir.port}/fhir`, mapping: { pulse: 'blood-sugar' } },
    ]) {
      const res = await p.api.request<{ message: string }>('POST', '/api/integrations', { type: 'fhir', name: 'bad', config });
      assert.equal(res.status, 400, JSON.stringify(config));
    }
  });

  it('every vital becomes a schema-valid R4 Observation with its LOINC code and UCUM unit; the other tenant’s devices stay out; the server away → buffered, then delivered', async () => {
    const token = 'secret-bearer-0123';
    const a = await p.api.request<{ id: string; config: Record<string, unknown>; secretsSet: string[] }>('POST', '/api/integrations', {
      type: 'fhir',
      name: 'ehr',
      config: { url: `http://127.0.0.1:${fhir.port}/fhir/a`, bearerToken: token, patientReference: 'Patient/{deviceName}', reconnectMs: 200 },
    });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.deepEqual(a.body.secretsSet, ['bearerToken']);
    assert.equal(a.body.config.bearerToken, undefined);
    // Tenant B exports to its own base, with its own mapping: `pulse` is its heart rate, heartRate is not exported.
    const b = await tenantB.request<{ id: string }>('POST', '/api/integrations', {
      type: 'fhir',
      name: 'ehr',
      config: { url: `http://127.0.0.1:${fhir.port}/fhir/b`, mapping: { pulse: 'heart-rate', heartRate: null }, mode: 'if-none-exist' },
    });
    assert.equal(b.status, 201, JSON.stringify(b.body));
    await eventually(async () => ((await status(p.api, a.body.id)).state === 'connected' ? true : undefined), 10_000, 'A connected');

    const patient = await p.api.createDevice('patient-1');
    const other = await tenantB.createDevice('patient-1');
    await publish(p, patient.accessToken, { ts: T0, values: { heartRate: 72, spo2: 97, bodyTemp: 36.8, battery: 80 } });
    await publish(p, patient.accessToken, { ts: T0 + 1000, values: { systolic: 120, diastolic: 80, respiratoryRate: 16 } });
    await publish(p, patient.accessToken, { ts: T0 + 2000, values: { systolic: 131 } });
    await publish(p, other.accessToken, { ts: T0, values: { pulse: 64, heartRate: 99, spo2: 95 } });

    const held = await eventually(async () => ((fhir.observations.get('/fhir/a')?.size ?? 0) >= 6 ? fhir.observations.get('/fhir/a') : undefined), 15_000, 'six Observations for A');
    assert.deepEqual(fhir.invalid, []);
    const all = [...held.values()];
    assert.equal(all.length, 6);
    const byCode = (code: string) => all.filter((o) => codes(o)[0] === code);
    const quantity = (o: Resource | undefined) => o?.valueQuantity as { value: number; system: string; code: string };
    const [hr] = byCode('8867-4');
    assert.deepEqual(quantity(hr), { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' });
    assert.equal(hr?.status, 'final');
    assert.equal(hr?.effectiveDateTime, new Date(T0).toISOString());
    assert.deepEqual((hr?.category as { coding: { code: string }[] }[])[0]?.coding[0]?.code, 'vital-signs');
    assert.deepEqual(hr?.subject, { reference: 'Patient/patient-1', display: 'patient-1' });
    assert.deepEqual((hr?.device as { identifier: unknown }).identifier, { system: 'urn:continuum:device', value: patient.id });
    assert.deepEqual(hr?.identifier, [{ system: 'urn:continuum:observation', value: `${patient.id}/heartRate/${T0}` }]);
    const [spo2] = byCode('2708-6');
    assert.deepEqual(codes(spo2!), ['2708-6', '59408-5']);
    assert.equal(quantity(spo2).code, '%');
    assert.deepEqual([quantity(byCode('8310-5')[0]).code, quantity(byCode('8310-5')[0]).value], ['Cel', 36.8]);
    assert.deepEqual([quantity(byCode('9279-1')[0]).code, quantity(byCode('9279-1')[0]).value], ['/min', 16]);
    const panels = byCode('85354-9').sort((x, y) => String(x.effectiveDateTime).localeCompare(String(y.effectiveDateTime)));
    assert.equal(panels.length, 2);
    const components = (o: Resource | undefined) => (o?.component as { code: { coding: { code: string }[] }; valueQuantity?: { value: number; code: string }; dataAbsentReason?: unknown }[]).map((c) => [c.code.coding[0]?.code, c.valueQuantity?.value, c.valueQuantity?.code ?? 'absent']);
    assert.deepEqual(components(panels[0]), [['8480-6', 120, 'mm[Hg]'], ['8462-4', 80, 'mm[Hg]']]);
    assert.deepEqual(components(panels[1]), [['8480-6', 131, 'mm[Hg]'], ['8462-4', undefined, 'absent']]);
    // The battery level is no vital sign: not exported.
    assert.equal(all.some((o) => JSON.stringify(o).includes('battery')), false);
    // Transaction Bundles with conditional updates, authenticated with the configured bearer token.
    const ofA = fhir.bundles.filter((x) => x.path === '/fhir/a');
    assert.ok(ofA.every((x) => x.authorization === `Bearer ${token}` && x.contentType?.startsWith('application/fhir+json')));
    const firstEntry = (ofA[0]?.bundle.entry as { request: { method: string; url: string } }[])[0];
    assert.equal(firstEntry?.request.method, 'PUT');
    assert.match(firstEntry?.request.url ?? '', /^Observation\?identifier=urn%3Acontinuum%3Aobservation%7C/);

    // Tenant B: its own device only, its own mapping, ifNoneExist creates; nothing of B at A's base and vice versa.
    const heldB = await eventually(async () => ((fhir.observations.get('/fhir/b')?.size ?? 0) >= 2 ? fhir.observations.get('/fhir/b') : undefined), 15_000, "B's Observations");
    const ofB = [...heldB.values()];
    assert.deepEqual(ofB.map((o) => codes(o)[0]).sort(), ['2708-6', '8867-4']);
    assert.equal(quantity(ofB.find((o) => codes(o)[0] === '8867-4')).value, 64);
    assert.ok(ofB.every((o) => (o.device as { identifier: { value: string } }).identifier.value === other.id));
    assert.equal(all.some((o) => JSON.stringify(o).includes(other.id)), false);
    const entryB = (fhir.bundles.find((x) => x.path === '/fhir/b')?.bundle.entry as { request: { method: string; ifNoneExist?: string } }[])[0];
    assert.equal(entryB?.request.method, 'POST');
    assert.match(entryB?.request.ifNoneExist ?? '', /^identifier=/);

    // The server goes away: what is committed meanwhile waits in the buffer.
    await eventually(async () => ((await status(p.api, a.body.id)).backlog === 0 ? true : undefined), 10_000, 'A drained');
    await fhir.close();
    for (let i = 0; i < 3; i++) await publish(p, patient.accessToken, { ts: T0 + 10_000 + i, values: { heartRate: 100 + i } });
    const waiting = await eventually(async () => {
      const s = await status(p.api, a.body.id);
      return s.backlog === 3 && s.state === 'disconnected' ? s : undefined;
    }, 15_000, 'three records waiting, disconnected');
    assert.ok(waiting.lastError, 'the reason is shown');
    fhir = await startFhirServer(fhir.port, fhir);
    await eventually(async () => ((await status(p.api, a.body.id)).backlog === 0 ? true : undefined), 20_000, 'backlog delivered');
    const later = [...(fhir.observations.get('/fhir/a')?.values() ?? [])].filter((o) => String(o.effectiveDateTime) >= new Date(T0 + 10_000).toISOString());
    assert.deepEqual(later.map((o) => quantity(o).value).sort(), [100, 101, 102]);
    assert.deepEqual(fhir.invalid, []);
  });
});
