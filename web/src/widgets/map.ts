/**
 * Map widget: where one device (or the tenant's first devices) is, from the latest `latitude` and
 * `longitude` telemetry (or the two keys the widget names), moving live for a single device.
 * Leaflet is loaded only when a map is shown. Under the markers the base layer of map/base-map.ts:
 * the offline vector map, or tiles when the server sets `web.tileUrl` (the one tile host the
 * Content-Security-Policy allows).
 */
import type * as Leaflet from 'leaflet';
import { get, query, uiConfig, type Device, type Page, type TsValue, type Widget } from '../api.js';
import { formatValue, h } from '../dom.js';
import { bindTextTooltip } from '../map/leaflet-text.js';
import { errorText, latestFeed, numeric, type WidgetHandle } from './feed.js';

const MAX_DEVICES = 50;

export function mapWidget(w: Widget): WidgetHandle {
  const [latKey, lonKey] = [w.keys?.[0] ?? 'latitude', w.keys?.[1] ?? 'longitude'];
  const box = h('div', { class: 'widget-map' });
  const note = h('p', { class: 'hint', role: 'status' });
  const el = h('div', { class: 'widget-body' }, box, note);
  let disposed = false;
  let map: Leaflet.Map | undefined;
  let sizer: ResizeObserver | undefined;
  let frame = 0;
  const offs: (() => void)[] = [];

  async function start(): Promise<void> {
    const [L, config, { addBaseLayer }] = await Promise.all([import('leaflet'), uiConfig(), import('../map/base-map.js'), import('leaflet/dist/leaflet.css')]);
    if (disposed) return;
    // No zoom/fade animations in a widget: a dashboard left mid-animation removed the map under a pending
    // animation frame (TypeError reading '_leaflet_pos' in the console).
    map = L.map(box, { attributionControl: Boolean(config.tileUrl && config.tileAttribution), zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false }).setView([0, 0], 2);
    // The same base layer as the map page (one setting, web.tileUrl); no graticule in a small widget.
    offs.push(addBaseLayer(map, box, config, { graticule: false }));
    // The vector base map has no streets: a lone device is shown with its region, not a blank square.
    const closeZoom = config.tileUrl ? 12 : 6;
    const m = map;
    const markers = new Map<string, Leaflet.CircleMarker>();
    const fit = (): void => {
      const points = [...markers.values()].map((x) => x.getLatLng());
      if (points.length === 0) return;
      if (points.length === 1 && points[0]) m.setView(points[0], Math.max(m.getZoom(), closeZoom), { animate: false });
      else m.fitBounds(L.latLngBounds(points), { padding: [20, 20], maxZoom: config.tileUrl ? 14 : 8, animate: false });
    };
    // The grid sizes the widget (gridstack places the item after the map may have measured its box,
    // and again on every drag/resize or column change): Leaflet must measure again, or its markers'
    // hit areas stay where the old size put them. Measured on the next frame, not inside the
    // observer (a resize from its own callback is a ResizeObserver loop).
    sizer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (disposed || box.clientWidth === 0 || box.clientHeight === 0) return;
        m.invalidateSize({ animate: false, pan: false });
        fit();
      });
    });
    sizer.observe(box);
    const place = (id: string, name: string, lat: number, lon: number): void => {
      let marker = markers.get(id);
      if (!marker) {
        // Device names and widget titles are user text: a text tooltip, never HTML.
        marker = bindTextTooltip(L.circleMarker([lat, lon], { radius: 7, color: '#0b57d0', fillOpacity: 0.8 }), name).addTo(m);
        markers.set(id, marker);
      } else marker.setLatLng([lat, lon]);
      // Measure now too: the observer's frame may not have run yet when the first position arrives.
      m.invalidateSize({ animate: false, pan: false });
      fit();
      el.dataset.markers = String(markers.size);
    };
    if (w.deviceId) {
      const pos: { lat?: number; lon?: number } = {};
      offs.push(
        latestFeed(el, w.deviceId, [latKey, lonKey], (key: string, p: TsValue) => {
          const v = numeric(p.value);
          if (v === null) return;
          if (key === latKey) pos.lat = v;
          else pos.lon = v;
          if (pos.lat !== undefined && pos.lon !== undefined) place(w.deviceId as string, w.title, pos.lat, pos.lon);
        }),
      );
      return;
    }
    const page = await get<Page<Device>>(`/api/devices${query({ limit: MAX_DEVICES })}`);
    const latest = await Promise.all(
      page.items.map((d) => get<Record<string, TsValue>>(`/api/devices/${encodeURIComponent(d.id)}/telemetry/latest${query({ keys: `${latKey},${lonKey}` })}`).then((v) => [d, v] as const)),
    );
    if (disposed) return;
    for (const [d, v] of latest) {
      const lat = numeric(v[latKey]?.value);
      const lon = numeric(v[lonKey]?.value);
      if (lat !== null && lon !== null) place(d.id, d.name, lat, lon);
    }
    note.textContent = markers.size === 0 ? `No device reports ${latKey}/${lonKey}.` : `${formatValue(markers.size)} of the first ${page.items.length} devices.`;
  }
  start().catch((err: unknown) => (note.textContent = errorText(err)));
  return {
    el,
    dispose: () => {
      disposed = true;
      for (const off of offs) off();
      sizer?.disconnect();
      cancelAnimationFrame(frame);
      map?.stop();
      map?.remove();
    },
  };
}
