/**
 * Dashboards: CRUD per tenant with the checks a schema cannot make (grid bounds, devices of the
 * caller's tenant, control specs). Widget ids are assigned here when the caller sends none, so a
 * scenario pack (or the composer) can post widgets without inventing ids.
 */
import { randomUUID } from 'node:crypto';
import {
  GRID_COLUMNS,
  MAX_WIDGET_ROWS,
  WIDGET_TYPES,
  DEVICE_WIDGETS,
  checkControl,
  type Dashboard,
  type Widget,
} from '../domain/dashboard.js';
import { PlatformError } from '../domain/errors.js';
import type { Clock, DashboardStore, Logger, RegistryStore } from '../ports.js';

export const MAX_WIDGETS = 100;
const MAX_NAME = 255;

/** A widget as callers send it: the id is optional. */
export type WidgetInput = Omit<Widget, 'id'> & { readonly id?: string };

export interface DashboardBody {
  readonly name: string;
  readonly description?: string;
  readonly widgets: readonly WidgetInput[];
}

export interface DashboardDeps {
  readonly store: DashboardStore & Pick<RegistryStore, 'getDevice'>;
  readonly clock: Clock;
  readonly logger?: Logger;
}

function checkInt(value: number, min: number, max: number, path: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new PlatformError('BAD_REQUEST', `${path} must be an integer in ${min}..${max}`);
}

export class DashboardService {
  constructor(private readonly deps: DashboardDeps) {}

  list(tenantId: string): Promise<Dashboard[]> {
    return this.deps.store.listDashboards(tenantId);
  }

  async get(tenantId: string, id: string): Promise<Dashboard> {
    const d = await this.deps.store.getDashboard(id);
    // Another tenant's dashboard answers like a missing one: ids do not leak across tenants.
    if (!d || d.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `dashboard ${id}`);
    return d;
  }

  async create(tenantId: string, body: DashboardBody): Promise<Dashboard> {
    const now = this.deps.clock.now();
    const dashboard: Dashboard = { id: randomUUID(), tenantId, ...(await this.checked(tenantId, body)), createdAt: now, updatedAt: now };
    await this.deps.store.saveDashboard(dashboard);
    this.deps.logger?.info({ tenantId, dashboardId: dashboard.id, widgets: dashboard.widgets.length }, 'dashboard created');
    return dashboard;
  }

  async update(tenantId: string, id: string, body: DashboardBody): Promise<Dashboard> {
    const current = await this.get(tenantId, id);
    const dashboard: Dashboard = {
      id,
      tenantId,
      ...(await this.checked(tenantId, body)),
      createdAt: current.createdAt,
      updatedAt: Math.max(this.deps.clock.now(), current.updatedAt),
    };
    await this.deps.store.saveDashboard(dashboard);
    return dashboard;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.deps.store.deleteDashboard(id);
  }

  private async checked(tenantId: string, body: DashboardBody): Promise<{ name: string; description?: string; widgets: Widget[] }> {
    const name = body.name.trim();
    if (name.length === 0 || name.length > MAX_NAME) throw new PlatformError('BAD_REQUEST', `name must be 1..${MAX_NAME} characters`);
    if (body.widgets.length > MAX_WIDGETS) throw new PlatformError('BAD_REQUEST', `at most ${MAX_WIDGETS} widgets`);
    const ids = new Set<string>();
    const devices = new Map<string, boolean>();
    const widgets: Widget[] = [];
    for (const [i, w] of body.widgets.entries()) {
      const path = `widgets[${i}]`;
      const widget = this.checkWidget(w, path);
      if (ids.has(widget.id)) throw new PlatformError('BAD_REQUEST', `${path}.id "${widget.id}" used twice`);
      ids.add(widget.id);
      if (widget.deviceId !== undefined) {
        let ours = devices.get(widget.deviceId);
        if (ours === undefined) {
          const device = await this.deps.store.getDevice(widget.deviceId);
          ours = device?.tenantId === tenantId;
          devices.set(widget.deviceId, ours);
        }
        if (!ours) throw new PlatformError('DEVICE_NOT_FOUND', `${path}.deviceId ${widget.deviceId}`);
      }
      widgets.push(widget);
    }
    return { name, ...(body.description !== undefined ? { description: body.description } : {}), widgets };
  }

  private checkWidget(w: WidgetInput, path: string): Widget {
    if (!WIDGET_TYPES.includes(w.type)) throw new PlatformError('BAD_REQUEST', `${path}.type must be one of ${WIDGET_TYPES.join(', ')}`);
    checkInt(w.w, 1, GRID_COLUMNS, `${path}.w`);
    checkInt(w.x, 0, GRID_COLUMNS - w.w, `${path}.x`);
    checkInt(w.h, 1, MAX_WIDGET_ROWS, `${path}.h`);
    checkInt(w.y, 0, MAX_WIDGET_ROWS * MAX_WIDGETS, `${path}.y`);
    if (w.min !== undefined && w.max !== undefined && !(w.min < w.max)) throw new PlatformError('BAD_REQUEST', `${path}: min must be below max`);
    if (w.type === 'control') {
      if (!w.control) throw new PlatformError('BAD_REQUEST', `${path}.control is required for a control widget`);
      if (w.deviceId === undefined) throw new PlatformError('BAD_REQUEST', `${path}.deviceId is required for a control widget`);
    }
    if (w.control) checkControl(w.control, `${path}.control`);
    if (DEVICE_WIDGETS.includes(w.type) && w.deviceId === undefined) {
      throw new PlatformError('BAD_REQUEST', `${path}.deviceId is required for a ${w.type} widget`);
    }
    return { ...w, id: w.id ?? randomUUID() };
  }
}
