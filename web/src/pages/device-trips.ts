/**
 * The device page's Trips card (GET /api/devices/{id}/trips, issue 17): the device's latest trips
 * as a list (start, duration, distance, stops, max speed) and the chosen one drawn on a map — its
 * track as a polyline and its stops as markers. Shown only for a device that has trips; Leaflet is
 * loaded only then. Under the track the base layer of map/base-map.ts (offline unless tiles are set).
 */
import type * as Leaflet from 'leaflet';
import { can, get, uiConfig } from '../api.js';
import { h, replaceChildren, timeEl } from '../dom.js';
import { bindTextTooltip } from '../map/leaflet-text.js';
import { errorText } from './tenancy-kit.js';

interface Stop {
  lat: number;
  lon: number;
  fromTs: number;
  toTs: number;
}
interface TripSummary {
  id: string;
  startTs: number;
  endTs: number;
  distanceM: number;
  maxSpeedKmh: number;
  idleMs: number;
  stops: Stop[];
  open: boolean;
}
interface TripFull extends TripSummary {
  track: [number, number, number][];
}

const SHOWN = 10;
const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;
const km = (m: number): string => `${(m / 1000).toFixed(1)} km`;

export function tripsSection(deviceId: string): { el: HTMLElement; dispose: () => void } {
  const list = h('ol', { class: 'trip-list', 'aria-label': 'Trips' });
  const box = h('div', { class: 'trip-map', 'data-trip': '' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const el = h('section', { class: 'card trips', hidden: true, 'aria-labelledby': 'trips-title' }, h('h2', { id: 'trips-title' }, 'Trips'), error, h('div', { class: 'grid' }, list, box));
  let map: Leaflet.Map | undefined;
  let layer: Leaflet.LayerGroup | undefined;
  let L: typeof Leaflet | undefined;
  let disposed = false;
  const offs: (() => void)[] = [];

  async function draw(id: string): Promise<void> {
    const trip = await get<TripFull>(`/api/devices/${encodeURIComponent(deviceId)}/trips/${encodeURIComponent(id)}`);
    if (disposed) return;
    if (!L || !map) {
      const [leaflet, config, { addBaseLayer }] = await Promise.all([import('leaflet'), uiConfig(), import('../map/base-map.js'), import('leaflet/dist/leaflet.css')]);
      if (disposed) return;
      L = leaflet;
      map = L.map(box, { zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false }).setView([0, 0], 2);
      offs.push(addBaseLayer(map, box, config, { graticule: false }));
      offs.push(() => map?.remove());
    }
    layer?.remove();
    layer = L.layerGroup().addTo(map);
    const line = L.polyline(trip.track.map(([, lat, lon]) => [lat, lon] as [number, number]), { className: 'trip-track', color: '#2563eb', weight: 4 }).addTo(layer);
    for (const s of trip.stops) {
      const marker = L.circleMarker([s.lat, s.lon], { className: 'trip-stop', radius: 7, color: '#b45309', fillColor: '#f59e0b', fillOpacity: 0.9 });
      bindTextTooltip(marker, `Stop, ${minutes(s.toTs - s.fromTs)}`).addTo(layer);
    }
    map.fitBounds(line.getBounds(), { padding: [20, 20], animate: false });
    box.dataset.trip = trip.id;
  }

  async function load(): Promise<void> {
    if (!can('telemetry:read')) return;
    try {
      const { items } = await get<{ items: TripSummary[] }>(`/api/devices/${encodeURIComponent(deviceId)}/trips?limit=${SHOWN}`);
      if (disposed || items.length === 0) return;
      el.hidden = false;
      replaceChildren(
        list,
        items.map((t) =>
          h(
            'li',
            null,
            h(
              'button',
              { type: 'button', class: 'link', 'data-trip-id': t.id, onclick: () => void draw(t.id).catch((err: unknown) => (error.textContent = errorText(err))) },
              timeEl(t.startTs),
              ` · ${t.open ? 'under way' : minutes(t.endTs - t.startTs)} · ${km(t.distanceM)} · ${t.stops.length} stop${t.stops.length === 1 ? '' : 's'} · max ${Math.round(t.maxSpeedKmh)} km/h`,
            ),
          ),
        ),
      );
      await draw((items[0] as TripSummary).id);
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  void load();
  return {
    el,
    dispose: () => {
      disposed = true;
      for (const off of offs) off();
    },
  };
}
