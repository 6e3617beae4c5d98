/**
 * The Leaflet part of the map page, loaded on demand (Leaflet and its CSS stay out of the main
 * bundle): circle markers by device, geofence polygons, one track, over the base layer of
 * base-map.ts (the offline vector map, or the configured tiles).
 */
import * as L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { UiConfig } from '../api.js';
import { addBaseLayer } from './base-map.js';
import { bindElementPopup, bindTextTooltip } from './leaflet-text.js';
import type { Position } from './positions.js';

export type Status = 'alarm' | 'online' | 'offline';
const COLOURS: Record<Status, string> = { alarm: '#c5221f', online: '#137333', offline: '#5f6368' };

export class FleetMap {
  private readonly map: L.Map;
  private readonly markers = L.featureGroup();
  private readonly fences = L.featureGroup();
  private readonly byId = new Map<string, L.CircleMarker>();
  private track: L.Polyline | undefined;
  private readonly disposers: (() => void)[] = [];

  constructor(canvas: HTMLElement, config: UiConfig) {
    this.map = L.map(canvas, { worldCopyJump: true, zoomSnap: 0.5 }).setView([20, 0], 2);
    this.markers.addTo(this.map);
    this.fences.addTo(this.map);
    this.disposers.push(addBaseLayer(this.map, canvas, config));
    // Leaflet measures its container: tell it on every resize (also once it is in the document).
    const resize = new ResizeObserver(() => this.map.invalidateSize());
    resize.observe(canvas);
    this.disposers.push(() => resize.disconnect());
  }

  /** Adds or moves the device's marker; `popup` is built when it opens. */
  upsert(id: string, name: string, position: Position, status: Status, popup: () => HTMLElement): void {
    let marker = this.byId.get(id);
    if (!marker) {
      marker = L.circleMarker([position.lat, position.lon], { radius: 8, weight: 2, color: '#fff', fillOpacity: 0.9 });
      // Names come from devices and gateways: text only, never HTML (leaflet-text.ts).
      bindElementPopup(marker, popup);
      bindTextTooltip(marker, name);
      this.markers.addLayer(marker);
      this.byId.set(id, marker);
    } else marker.setLatLng([position.lat, position.lon]);
    this.restyle(id, status);
  }

  restyle(id: string, status: Status): void {
    const marker = this.byId.get(id);
    if (!marker) return;
    marker.setStyle({ fillColor: COLOURS[status] });
    // Tests and screen-reader tooling find markers by these.
    marker.getElement()?.setAttribute('data-status', status);
    marker.getElement()?.setAttribute('data-device-id', id);
  }

  addFence(name: string, polygon: [number, number][]): void {
    this.fences.addLayer(bindTextTooltip(L.polygon(polygon, { color: '#b06000', weight: 2, fillOpacity: 0.08, dashArray: '6 4' }), `Geofence of ${name}`));
  }

  /** Frames every marker and geofence (no animation: the view is final at once). */
  fit(): void {
    const bounds = this.markers.getBounds().extend(this.fences.getBounds());
    if (bounds.isValid()) this.map.fitBounds(bounds.pad(0.2), { maxZoom: 14, animate: false });
  }

  focus(id: string): void {
    const marker = this.byId.get(id);
    if (!marker) return;
    this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 12), { animate: false });
    marker.openPopup();
  }

  showTrack(points: readonly Position[]): void {
    this.clearTrack();
    if (points.length === 0) return;
    this.track = L.polyline(
      points.map((p) => [p.lat, p.lon] as [number, number]),
      { color: '#0b57d0', weight: 3, opacity: 0.85, className: 'map-track' },
    ).addTo(this.map);
    this.map.fitBounds(this.track.getBounds().pad(0.2), { maxZoom: 16, animate: false });
  }

  extendTrack(position: Position): void {
    this.track?.addLatLng([position.lat, position.lon]);
  }

  clearTrack(): void {
    this.track?.remove();
    this.track = undefined;
  }

  destroy(): void {
    for (const d of this.disposers) d();
    this.map.remove();
  }
}
