/**
 * What the map draws under the markers, decided in one place for the map page and the map
 * widget: the server's `web.tileUrl` (GET /api/ui-config) when set, otherwise — the default, with
 * no request leaving the platform — a vector base map shipped with the app: land and country
 * borders from Natural Earth 1:50m (the `world-atlas` package, TopoJSON decoded by
 * `topojson-client`) on a sea-coloured background, with a graticule over it. The data is a
 * hashed asset fetched only when a map is shown (~740 kB, cached immutably).
 */
import * as L from 'leaflet';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import worldUrl from 'world-atlas/countries-50m.json?url';
import type { UiConfig } from '../api.js';
import { graticule } from './graticule.js';
import { attributionText } from './leaflet-text.js';

type World = Topology<{ countries: GeometryCollection; land: GeometryCollection }>;

let world: Promise<World> | undefined;

/** Fetched once per page load; every map (page and widgets) shares it. */
function loadWorld(): Promise<World> {
  world ??= fetch(worldUrl).then((res) => {
    if (!res.ok) throw new Error(`base map: ${res.status}`);
    return res.json() as Promise<World>;
  });
  world.catch(() => (world = undefined));
  return world;
}

/**
 * Adds the base layer to `map` and marks `container` with `data-basemap` ("tiles", or "vector"
 * then "ready" once the land is drawn) so tests and styles can tell; returns its disposer.
 */
export function addBaseLayer(map: L.Map, container: HTMLElement, config: UiConfig, options: { graticule?: boolean } = {}): () => void {
  if (config.tileUrl) {
    container.dataset.basemap = 'tiles';
    const tiles = L.tileLayer(config.tileUrl, { maxZoom: 19, ...(config.tileAttribution ? { attribution: attributionText(config.tileAttribution) } : {}) }).addTo(map);
    return () => tiles.remove();
  }
  container.classList.add('no-tiles');
  container.dataset.basemap = 'vector';
  // Under the overlays (400) and markers, where tiles would be (200).
  const pane = map.getPane('basemap') ?? map.createPane('basemap');
  pane.style.zIndex = '200';
  pane.style.pointerEvents = 'none';
  const renderer = L.svg({ pane: 'basemap', padding: 0.5 });
  const layers = L.layerGroup().addTo(map);
  let disposed = false;
  loadWorld()
    .then((w) => {
      if (disposed) return;
      const common = { pane: 'basemap', renderer, interactive: false, smoothFactor: 1.5 };
      L.geoJSON(feature(w, w.objects.land), { ...common, style: { className: 'base-land', color: '#8a9bb0', weight: 0.8, fillColor: '#f6f4ee', fillOpacity: 1 } }).addTo(layers);
      L.geoJSON(mesh(w, w.objects.countries, (a, b) => a !== b), { ...common, style: { className: 'base-border', color: '#a7b1bf', weight: 0.7, fill: false, dashArray: '3 2' } }).addTo(layers);
      // Public domain data; named anyway so people know where the outlines come from.
      map.attributionControl?.addAttribution('Natural Earth');
      layers.on('remove', () => map.attributionControl?.removeAttribution('Natural Earth'));
      container.dataset.basemap = 'ready';
    })
    .catch(() => {
      // No base map data (an old service-worker cache, a proxy eating .json): the graticule stays.
      container.dataset.basemap = 'unavailable';
    });
  const offGrid = options.graticule === false ? () => undefined : graticule(map);
  return () => {
    disposed = true;
    offGrid();
    layers.remove();
  };
}
