/**
 * Without a tile server the map has no background: a graticule (lines of latitude and longitude,
 * spaced to the zoom) keeps it readable offline. Redrawn on every move, only over the view.
 */
import * as L from 'leaflet';

const STEPS = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];

function stepFor(span: number): number {
  return STEPS.find((s) => span / s >= 4) ?? (STEPS[STEPS.length - 1] as number);
}

export function graticule(map: L.Map): () => void {
  const layer = L.layerGroup().addTo(map);
  const style: L.PolylineOptions = { color: '#9aa7b8', weight: 0.6, interactive: false, opacity: 0.8 };
  const draw = (): void => {
    layer.clearLayers();
    const b = map.getBounds().pad(0.1);
    const south = Math.max(-85, b.getSouth());
    const north = Math.min(85, b.getNorth());
    const west = Math.max(-180, b.getWest());
    const east = Math.min(180, b.getEast());
    const step = stepFor(Math.max(north - south, (east - west) / 2));
    for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) layer.addLayer(L.polyline([[lat, west], [lat, east]], style));
    for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) layer.addLayer(L.polyline([[south, lon], [north, lon]], style));
  };
  // After the SVG renderer has taken the new view (it listens to the same events): lines drawn
  // before it would be clipped to the old one.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(draw, 0);
  };
  map.on('moveend resize', later);
  draw();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    map.off('moveend resize', later);
    layer.remove();
  };
}
