/** One widget of a dashboard, by type. */
import type { Widget } from '../api.js';
import { alarmsWidget } from './alarms.js';
import { barWidget } from './bar.js';
import { chartWidget } from './chart.js';
import { controlWidget } from './control.js';
import type { WidgetHandle } from './feed.js';
import { gaugeWidget } from './gauge.js';
import { mapWidget } from './map.js';
import { tableWidget } from './table.js';
import { timelineWidget } from './timeline.js';
import { valueWidget } from './value.js';

export type { WidgetHandle } from './feed.js';

export const WIDGET_LABELS: Record<Widget['type'], string> = {
  value: 'Value card',
  gauge: 'Gauge',
  chart: 'Chart',
  map: 'Map',
  alarms: 'Alarm list',
  control: 'Control',
  table: 'Table',
  bar: 'Bars',
  timeline: 'State timeline',
};

export function renderWidget(w: Widget): WidgetHandle {
  switch (w.type) {
    case 'value':
      return valueWidget(w);
    case 'gauge':
      return gaugeWidget(w);
    case 'chart':
      return chartWidget(w);
    case 'map':
      return mapWidget(w);
    case 'alarms':
      return alarmsWidget(w);
    case 'control':
      return controlWidget(w);
    case 'table':
      return tableWidget(w);
    case 'bar':
      return barWidget(w);
    case 'timeline':
      return timelineWidget(w);
  }
}
