/**
 * OTA deployments and their devices' rollout states (issue 16 step 2), migration 16. The plan
 * and target are JSON (read whole by the scheduler, never queried into). Device rows carry no
 * foreign key to devices: a device deleted mid-rollout keeps its row and times out as failed.
 */
import type { Deployment, DeploymentDevice, DeploymentPlan, DeploymentStatus, DeploymentTarget, RolloutState } from '../../../domain/ota-deployment.js';
import type { OtaType } from '../../../domain/ota.js';
import type { OtaDeploymentStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import type { Db } from './sql.js';

export const V16_OTA_DEPLOYMENTS = `
  CREATE TABLE ota_deployments (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    package_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    version    TEXT NOT NULL,
    target     TEXT NOT NULL,                    -- JSON DeploymentTarget
    plan       TEXT NOT NULL,                    -- JSON DeploymentPlan
    status     TEXT NOT NULL,
    wave       INTEGER NOT NULL,
    waves      INTEGER NOT NULL,
    reason     TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX ota_deployments_tenant ON ota_deployments (tenant_id, created_at);
  CREATE INDEX ota_deployments_active ON ota_deployments (status) WHERE status IN ('running', 'paused');

  CREATE TABLE ota_deployment_devices (
    deployment_id TEXT NOT NULL REFERENCES ota_deployments (id) ON DELETE CASCADE,
    device_id     TEXT NOT NULL,
    wave          INTEGER NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    start_after   INTEGER NOT NULL,
    state_since   INTEGER NOT NULL,
    fw_state      TEXT,
    error         TEXT,
    PRIMARY KEY (deployment_id, device_id)
  ) STRICT, WITHOUT ROWID;
`;

interface DeploymentRow {
  id: string;
  tenant_id: string;
  package_id: string;
  type: OtaType;
  version: string;
  target: string;
  plan: string;
  status: DeploymentStatus;
  wave: number;
  waves: number;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

interface DeviceRow {
  deployment_id: string;
  device_id: string;
  wave: number;
  state: RolloutState;
  attempts: number;
  start_after: number;
  state_since: number;
  fw_state: string | null;
  error: string | null;
}

const D_COLUMNS = 'id, tenant_id, package_id, type, version, target, plan, status, wave, waves, reason, created_at, updated_at';
const V_COLUMNS = 'deployment_id, device_id, wave, state, attempts, start_after, state_since, fw_state, error';

const toDeployment = (r: DeploymentRow): Deployment => ({
  id: r.id,
  tenantId: r.tenant_id,
  packageId: r.package_id,
  type: r.type,
  version: r.version,
  target: JSON.parse(r.target) as DeploymentTarget,
  plan: JSON.parse(r.plan) as DeploymentPlan,
  status: r.status,
  wave: r.wave,
  waves: r.waves,
  ...(r.reason !== null ? { reason: r.reason } : {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDevice = (r: DeviceRow): DeploymentDevice => ({
  deploymentId: r.deployment_id,
  deviceId: r.device_id,
  wave: r.wave,
  state: r.state,
  attempts: r.attempts,
  startAfter: r.start_after,
  stateSince: r.state_since,
  ...(r.fw_state !== null ? { fwState: r.fw_state } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
});

const deploymentParams = (d: Deployment) => ({
  id: d.id,
  tenantId: d.tenantId,
  packageId: d.packageId,
  type: d.type,
  version: d.version,
  target: JSON.stringify(d.target),
  plan: JSON.stringify(d.plan),
  status: d.status,
  wave: checkInt(d.wave, 'wave'),
  waves: checkInt(d.waves, 'waves'),
  reason: d.reason ?? null,
  createdAt: checkInt(d.createdAt, 'createdAt'),
  updatedAt: checkInt(d.updatedAt, 'updatedAt'),
});

const deviceParams = (d: DeploymentDevice) => ({
  deploymentId: d.deploymentId,
  deviceId: d.deviceId,
  wave: checkInt(d.wave, 'wave'),
  state: d.state,
  attempts: checkInt(d.attempts, 'attempts'),
  startAfter: checkInt(d.startAfter, 'startAfter'),
  stateSince: checkInt(d.stateSince, 'stateSince'),
  fwState: d.fwState ?? null,
  error: d.error ?? null,
});

export function createSqliteOtaDeployments(db: Db): OtaDeploymentStore {
  const s = {
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    insert: db.prepare(
      `INSERT INTO ota_deployments (${D_COLUMNS}) VALUES (@id, @tenantId, @packageId, @type, @version, @target, @plan, @status, @wave, @waves, @reason, @createdAt, @updatedAt)`,
    ),
    update: db.prepare(
      `UPDATE ota_deployments SET status = @status, wave = @wave, waves = @waves, reason = @reason, plan = @plan, target = @target, updated_at = @updatedAt WHERE id = @id`,
    ),
    get: db.prepare<[string], DeploymentRow>(`SELECT ${D_COLUMNS} FROM ota_deployments WHERE id = ?`),
    list: db.prepare<[string], DeploymentRow>(`SELECT ${D_COLUMNS} FROM ota_deployments WHERE tenant_id = ? ORDER BY created_at DESC, id`),
    active: db.prepare<[], DeploymentRow>(`SELECT ${D_COLUMNS} FROM ota_deployments WHERE status IN ('running', 'paused') ORDER BY created_at, id`),
    upsertDevice: db.prepare(
      `INSERT INTO ota_deployment_devices (${V_COLUMNS}) VALUES (@deploymentId, @deviceId, @wave, @state, @attempts, @startAfter, @stateSince, @fwState, @error)
       ON CONFLICT (deployment_id, device_id) DO UPDATE SET wave = excluded.wave, state = excluded.state, attempts = excluded.attempts,
         start_after = excluded.start_after, state_since = excluded.state_since, fw_state = excluded.fw_state, error = excluded.error`,
    ),
    devices: db.prepare<[string], DeviceRow>(`SELECT ${V_COLUMNS} FROM ota_deployment_devices WHERE deployment_id = ? ORDER BY wave, device_id`),
    device: db.prepare<[string, string], DeviceRow>(`SELECT ${V_COLUMNS} FROM ota_deployment_devices WHERE deployment_id = ? AND device_id = ?`),
  };
  const insertTx = db.transaction((d: Deployment, devices: readonly DeploymentDevice[]) => {
    s.insert.run(deploymentParams(d));
    for (const v of devices) s.upsertDevice.run(deviceParams(v));
  });
  const updateDevicesTx = db.transaction((devices: readonly DeploymentDevice[]) => {
    for (const v of devices) s.upsertDevice.run(deviceParams(v));
  });
  return {
    async insertOtaDeployment(d, devices) {
      if (!s.tenantExists.get(d.tenantId)) throw tenantNotFound(d.tenantId);
      insertTx(d, devices);
    },
    async getOtaDeployment(id) {
      const r = s.get.get(id);
      return r && toDeployment(r);
    },
    async listOtaDeployments(tenantId) {
      return s.list.all(tenantId).map(toDeployment);
    },
    async listActiveOtaDeployments() {
      return s.active.all().map(toDeployment);
    },
    async updateOtaDeployment(d) {
      s.update.run(deploymentParams(d));
    },
    async listOtaDeploymentDevices(deploymentId) {
      return s.devices.all(deploymentId).map(toDevice);
    },
    async getOtaDeploymentDevice(deploymentId, deviceId) {
      const r = s.device.get(deploymentId, deviceId);
      return r && toDevice(r);
    },
    async updateOtaDeploymentDevices(devices) {
      updateDevicesTx(devices);
    },
  };
}
