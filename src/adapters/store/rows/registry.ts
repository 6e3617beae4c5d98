/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { Device, DeviceProfile } from '../../../domain/device.js';
import { makeDevice, makeProfile } from '../shared.js';

export interface DeviceRow {
  id: string;
  tenant_id: string;
  name: string;
  label: string | null;
  profile_id: string;
  /** PostgreSQL boolean, SQLite 0/1 (makeDevice takes either). */
  is_gateway: boolean | number;
  gateway_id: string | null;
  customer_id: string | null;
  created_at: number;
}

export interface ProfileRow {
  id: string;
  tenant_id: string;
  name: string;
  codec: string;
  telemetry_keys: string;
  provision_key: string | null;
  provision_secret: string | null;
  controls: string | null;
  decoder: string | null;
  retention_days: number | null;
  created_at: number;
}

export const DEVICE_COLUMNS = 'id, tenant_id, name, label, profile_id, is_gateway, gateway_id, customer_id, created_at';
export const PROFILE_COLUMNS = 'id, tenant_id, name, codec, telemetry_keys, provision_key, provision_secret, controls, decoder, retention_days, created_at';

export const toDevice = (r: DeviceRow): Device =>
  makeDevice({
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    label: r.label,
    profileId: r.profile_id,
    isGateway: r.is_gateway,
    gatewayId: r.gateway_id,
    customerId: r.customer_id,
    createdAt: r.created_at,
  });

export const toProfile = (r: ProfileRow): DeviceProfile => ({
  ...makeProfile({
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    codec: r.codec,
    telemetryKeysJson: r.telemetry_keys,
    provisionKey: r.provision_key,
    provisionSecret: r.provision_secret,
    createdAt: r.created_at,
  }),
  ...(r.controls !== null ? { controls: JSON.parse(r.controls) as DeviceProfile['controls'] } : {}),
  ...(r.decoder !== null ? { decoder: r.decoder } : {}),
  ...(r.retention_days !== null ? { retentionDays: Number(r.retention_days) } : {}),
});
