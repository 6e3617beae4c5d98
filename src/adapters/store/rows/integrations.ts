/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { ExportEvent, ExportFilter, ExportRecord, Integration, IntegrationType, JsonObject } from '../../../domain/integrations.js';

export interface IntegrationRow {
  id: string;
  tenant_id: string;
  type: string;
  name: string;
  /** PostgreSQL boolean, SQLite 0/1. */
  enabled: boolean | number;
  config: string;
  filter: string;
  created_at: number;
  updated_at: number;
}

export interface ExportRow {
  seq: number;
  event: string;
  tenant_id: string;
  device_id: string;
  device_name: string;
  ts: number;
  enqueued_at: number;
  payload: string;
}

export const toIntegration = (r: IntegrationRow): Integration => ({
  id: r.id,
  tenantId: r.tenant_id,
  type: r.type as IntegrationType,
  name: r.name,
  enabled: r.enabled === true || r.enabled === 1,
  config: JSON.parse(r.config) as JsonObject,
  filter: JSON.parse(r.filter) as ExportFilter,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toExportRecord = (r: ExportRow): ExportRecord => ({
  seq: r.seq,
  event: r.event as ExportEvent,
  tenantId: r.tenant_id,
  deviceId: r.device_id,
  deviceName: r.device_name,
  ts: r.ts,
  enqueuedAt: r.enqueued_at,
  payload: r.payload,
});
