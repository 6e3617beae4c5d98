/**
 * The one place the dashboard hands content to Leaflet. Leaflet writes a string given to
 * bindTooltip, bindPopup or setContent (and an attribution) into the page as HTML, so device-
 * or user-controlled text (a device named `<img src=x onerror=…>`) would run as script. Here text
 * only ever reaches Leaflet as a DOM element holding it as a text node. eslint forbids calling
 * those Leaflet methods anywhere else in web/src (eslint.config.js).
 */
import type * as L from 'leaflet';

/** An inline element whose only content is `text`, as text. */
export function textElement(text: string): HTMLElement {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}

/** A tooltip showing `text` literally. */
export function bindTextTooltip<T extends L.Layer>(layer: T, text: string, options?: L.TooltipOptions): T {
  // eslint-disable-next-line no-restricted-syntax -- the element holds the text as a text node
  return layer.bindTooltip(textElement(text), options);
}

/** A popup built as DOM when it opens (never an HTML string). */
export function bindElementPopup<T extends L.Layer>(layer: T, build: () => HTMLElement, options?: L.PopupOptions): T {
  // eslint-disable-next-line no-restricted-syntax -- `build` returns an element, typed so
  return layer.bindPopup(() => build(), options);
}

/** Leaflet's attribution control writes attributions as HTML: a configured one is escaped to text. */
export function attributionText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
