/** Device-to-device MQTT grants (issue 15): kept in the Store (sqlite: migration 21). */
import type { MqttGrant } from '../domain/mqtt-grants.js';

export interface MqttGrantStore {
  /** The tenant's grants, oldest first. */
  listMqttGrants(tenantId: string): Promise<MqttGrant[]>;
  getMqttGrant(id: string): Promise<MqttGrant | undefined>;
  insertMqttGrant(grant: MqttGrant): Promise<void>;
  /** false when there was none. */
  deleteMqttGrant(id: string): Promise<boolean>;
}
