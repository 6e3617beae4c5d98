import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newTracker, openTrip, stepTrip, type Trip, type TripPoint } from '../../../src/domain/trips/segment.js';
import { fleetTrack, withJitter, type TrackPoint } from '../../fixtures/fleet-track.js';

const T0 = Date.UTC(2026, 0, 5, 7);

function segment(points: readonly TripPoint[]): { trips: Trip[]; open: Trip | undefined } {
  const tr = newTracker();
  const trips: Trip[] = [];
  for (const p of points) trips.push(...stepTrip(tr, 'van-1', p).closed);
  return { trips, open: openTrip(tr) };
}

const asPoints = (track: readonly TrackPoint[]): TripPoint[] => track.map((p) => ({ ts: p.ts, lat: p.latitude, lon: p.longitude, speed: p.speed, ignition: p.ignition, accuracy: 5 }));

/** The odometer's advance between two times: the distance really driven. */
function driven(track: readonly TrackPoint[], from: number, to: number): number {
  const at = (ts: number): number => (track.find((p) => p.ts >= ts) ?? (track[track.length - 1] as TrackPoint)).odometerM;
  return at(to) - at(from);
}

describe('trip segmentation on the fleet pack’s van-1 track', () => {
  const track = fleetTrack(2700, T0);

  it('finds the trips and stops the model drove, with distances within 2 %', () => {
    const { trips, open } = segment(asPoints(track));
    assert.equal(trips.length, 2, JSON.stringify(trips.map((t) => [t.startTs - T0, t.endTs - T0, t.stops.length])));
    const [first, second] = trips as [Trip, Trip];
    assert.equal(first.stops.length, 0);
    assert.deepEqual(second.stops.map((s) => Math.round((s.toTs - s.fromTs) / 1000)), [241, 181], 'the two customer stops (4 and 3 minutes, plus the arrival second)');
    for (const t of trips) {
      const truth = driven(track, t.startTs - 1000, t.endTs);
      assert.ok(Math.abs(t.distanceM / truth - 1) < 0.02, `distance ${t.distanceM} vs driven ${truth}`);
      assert.ok(t.maxSpeedKmh >= 40 && t.maxSpeedKmh <= 55, String(t.maxSpeedKmh));
    }
    assert.ok(second.idleMs >= 420_000, 'the customer stops are idle time');
    assert.ok(open, 'the van left the depot again: a trip under way');
    assert.equal(open.open, true);
  });

  it('gives the same trips under receiver noise and with a GPS jump', () => {
    const clean = segment(asPoints(track)).trips;
    const noisy = asPoints(withJitter(track, 2));
    // One fix 5 km off in the middle of the second trip.
    const i = noisy.findIndex((p) => p.ts - T0 > 1300_000 && (p.speed ?? 0) > 20);
    noisy[i] = { ...(noisy[i] as TripPoint), lat: (noisy[i] as TripPoint).lat + 0.045 };
    const { trips } = segment(noisy);
    assert.equal(trips.length, clean.length);
    trips.forEach((t, k) => {
      const c = clean[k] as Trip;
      assert.equal(t.stops.length, c.stops.length);
      assert.ok(Math.abs(t.distanceM / c.distanceM - 1) < 0.02, `noisy ${t.distanceM} vs clean ${c.distanceM}`);
      assert.ok(Math.abs(t.startTs - c.startTs) <= 2000 && Math.abs(t.endTs - c.endTs) <= 2000);
    });
  });

  it('adds no distance for a parked receiver wandering within its accuracy', () => {
    const parked: TripPoint[] = Array.from({ length: 600 }, (_, k) => ({ ts: T0 + k * 1000, lat: 52.52 + Math.sin(k) * 0.00003, lon: 13.4 + Math.cos(k * 1.3) * 0.00004, speed: 0, accuracy: 8 }));
    const { trips, open } = segment(parked);
    assert.equal(trips.length, 0);
    assert.equal(open, undefined);
  });

  it('ends a trip when the ignition goes off, and when the reports stop', () => {
    const drive = (from: number, n: number): TripPoint[] => Array.from({ length: n }, (_, k) => ({ ts: from + k * 1000, lat: 52.52 + k * 0.0001, lon: 13.4, speed: 40, ignition: true }));
    const a = drive(T0, 30);
    const off: TripPoint = { ts: T0 + 31_000, lat: 52.523, lon: 13.4, speed: 0, ignition: false };
    const b = drive(T0 + 3600_000, 30);
    const { trips, open } = segment([...a, off, ...b]);
    assert.equal(trips.length, 1);
    assert.equal(trips[0]?.endTs, T0 + 31_000);
    assert.ok(open);
    const gap = segment([...a, ...drive(T0 + 3600_000, 10)]);
    assert.equal(gap.trips.length, 1, 'an hour without reports closes the trip at the last report');
    assert.equal(gap.trips[0]?.endTs, T0 + 29_000);
  });
});
