import type { JsonValue } from './telemetry.js';
import type { ProfileControl } from './dashboard.js';

export const DEFAULT_TENANT_ID = '00000000-0000-4000-8000-000000000001';

export interface Tenant {
  readonly id: string;
  readonly name: string;
}

export type TelemetryKeyType = 'number' | 'boolean' | 'string' | 'json';

export interface TelemetryKeySpec {
  readonly key: string;
  readonly type: TelemetryKeyType;
  readonly unit?: string;
  /** Display hints for people (the dashboard): a name to show instead of the key, and how many decimals. */
  readonly label?: string;
  readonly decimals?: number;
}

/** Names a codec registered with the platform (json, senml, …). */
export type CodecName = string;

export interface DeviceProfile {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly codec: CodecName;
  readonly telemetryKeys: readonly TelemetryKeySpec[];
  /** Self-provisioning: devices that know this key and secret may register themselves. */
  readonly provisionKey?: string;
  readonly provisionSecret?: string;
  /** Command controls the dashboard offers on every device of this profile. */
  readonly controls?: readonly ProfileControl[];
  /** Payload decoder source (TTN convention: decodeUplink, optional encodeDownlink); docs/DEVICE-API.md. */
  readonly decoder?: string;
  /**
   * Telemetry older than this many days is deleted in the background (services/retention.ts);
   * absent: kept for ever. The latest values stay (they are the device's current state).
   */
  readonly retentionDays?: number;
  readonly createdAt: number;
}

export interface Device {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly label?: string;
  readonly profileId: string;
  readonly isGateway: boolean;
  /** Set on child devices created through a gateway. */
  readonly gatewayId?: string;
  /** The customer the device is assigned to (issue 15); its users see it. */
  readonly customerId?: string;
  readonly createdAt: number;
}

export type CredentialType = 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE';

/** What identifies a device on the wire. Only one credential of each type per device. */
export type DeviceCredential =
  | {
      readonly type: 'ACCESS_TOKEN';
      readonly deviceId: string;
      /**
       * HMAC-SHA-256 (hex) of the token under the platform's credential key, never the token: a
       * copy of the database must not hand out working tokens. Shown in full once, when set.
       */
      readonly tokenHash: string;
      /** The first characters, so people can tell tokens apart (see tokenHint). */
      readonly hint: string;
    }
  | {
      readonly type: 'MQTT_BASIC';
      readonly deviceId: string;
      readonly clientId?: string;
      readonly username?: string;
      /** scrypt hash, never the password itself. */
      readonly passwordHash?: string;
    }
  | { readonly type: 'X509_CERTIFICATE'; readonly deviceId: string; readonly fingerprint: string };

export type AttributeScope = 'client' | 'shared' | 'server';
export const ATTRIBUTE_SCOPES: readonly AttributeScope[] = ['client', 'shared', 'server'];

export interface AttributeEntry {
  readonly key: string;
  readonly value: JsonValue;
  readonly lastUpdateTs: number;
}

export type TransportName = 'mqtt' | 'coap' | 'http' | 'gateway';

/**
 * Why a device is offline, when the platform knows: its own session ended (`disconnected`), the
 * gateway it sits behind has no session (`gateway_offline`: a child is reachable only through its
 * gateway), or its gateway reported that the field device stopped answering
 * (`device_disconnected`, ThingsBoard's `v1/gateway/disconnect`).
 */
export type OfflineReason = 'disconnected' | 'gateway_offline' | 'device_disconnected';

/** Connectivity as the platform last saw it. */
export interface DeviceStatus {
  readonly deviceId: string;
  readonly online: boolean;
  readonly lastActivity?: number;
  readonly lastConnect?: number;
  readonly lastDisconnect?: number;
  readonly transport?: TransportName;
  /** The node holding (or that last held) the device's session. */
  readonly nodeId?: string;
  /** The session epoch this status was written under (Presence); orders writes of several nodes. */
  readonly epoch?: number;
  /** Set only while offline, when the reason is known. */
  readonly offlineReason?: OfflineReason;
}

/** The identity a transport holds for an authenticated connection or request. */
export interface DeviceIdentity {
  readonly deviceId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly profileId: string;
  readonly codec: CodecName;
  readonly isGateway: boolean;
}

export function toIdentity(device: Device, profile: DeviceProfile): DeviceIdentity {
  return {
    deviceId: device.id,
    tenantId: device.tenantId,
    name: device.name,
    profileId: device.profileId,
    codec: profile.codec,
    isGateway: device.isGateway,
  };
}
