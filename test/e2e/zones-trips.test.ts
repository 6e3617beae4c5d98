/**
 * The fleet pack's van-1, played from its model (test/fixtures/fleet-track.ts) over MQTT with its
 * own timestamps: it drives into a zone around a customer's address → the `entered` rule fires
 * once; after the drive, its trips are listed — two closed (the second with the two customer
 * stops) and the one under way — with distances within 2 % of the model's odometer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { alarms, createRule, mosquittoPub } from './scenarios/helpers.js';
import { fleetTrack } from '../fixtures/fleet-track.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

interface TripBody {
  id: string;
  startTs: number;
  endTs: number;
  distanceM: number;
  stops: unknown[];
  open: boolean;
}

test('a van drives into a zone: the rule fires once; its trips are listed after the drive', async () => {
  const van = await tp.api.createDevice('van-1');
  // Waypoint 3 of the fleet loop, where the van stops at a customer for 4 minutes.
  const zone = await tp.api.request<{ id: string }>('POST', '/api/zones', { name: 'customer-3', geometry: { type: 'Point', coordinates: [13.412, 52.534], radius: 60 } });
  assert.equal(zone.status, 201, JSON.stringify(zone.body));
  await createRule(tp.api, { name: 'At the customer', deviceId: van.id, trigger: 'telemetry', condition: 'entered("customer-3")', actions: [{ type: 'alarm', alarmType: 'ArrivedAtCustomer', severity: 'warning' }] });

  const start = Date.now() - 3 * 3600_000;
  const track = fleetTrack(1900, start);
  for (let i = 0; i < track.length; i += 100) {
    const chunk = track.slice(i, i + 100).map((p) => ({ ts: p.ts, values: { latitude: p.latitude, longitude: p.longitude, speed: p.speed, ignition: p.ignition } }));
    await mosquittoPub(tp.ports.mqtt, van.accessToken, chunk);
  }

  const trips = await eventually(async () => {
    const res = await tp.api.request<{ items: TripBody[] }>('GET', `/api/devices/${van.id}/trips`);
    return res.body.items?.length === 3 && res.body.items[0]?.open && res.body.items[0].startTs > start + 1800_000 ? res.body.items : undefined;
  }, 30_000, 'three trips, the newest under way');
  const [, second, first] = trips as [TripBody, TripBody, TripBody];
  assert.equal(first.open, false);
  assert.equal(first.stops.length, 0);
  assert.equal(second.stops.length, 2, 'the two customer stops');
  const odometer = (ts: number): number => (track.find((p) => p.ts >= ts) ?? track[track.length - 1])!.odometerM;
  for (const t of [first, second]) {
    const truth = odometer(t.endTs) - odometer(t.startTs - 1000);
    assert.ok(Math.abs(t.distanceM / truth - 1) < 0.02, `trip ${t.id}: ${t.distanceM} m vs ${truth} m driven`);
  }
  const full = await tp.api.request<{ track: number[][] }>('GET', `/api/devices/${van.id}/trips/${encodeURIComponent(second.id)}`);
  assert.equal(full.status, 200);
  assert.ok(full.body.track.length > 100);

  const fired = await eventually(async () => {
    const items = await alarms(tp.api, van.id);
    return items.length > 0 ? items : undefined;
  }, 10_000, 'the arrival alarm');
  assert.equal(fired.length, 1, JSON.stringify(fired));
  assert.equal(fired[0]?.type, 'ArrivedAtCustomer');
});
