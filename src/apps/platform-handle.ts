/** What a started platform hands its caller (server.ts, tests, the demo), and what it may be given. */
import type { Bus, Clock, DeviceGroupLookup, ListeningAddress, Logger, Store } from '../ports.js';
import type { AlarmService } from '../services/alarms.js';
import type { AttributeService } from '../services/attributes.js';
import type { CommandService } from '../services/commands.js';
import type { DeviceService } from '../services/device-service.js';
import type { GatewayService } from '../services/gateway.js';
import type { MqttGrantService } from '../services/mqtt-grants.js';
import type { RegistryService } from '../services/registry.js';
import type { RpcService } from '../services/rpc.js';
import type { Rules } from '../services/rules/index.js';
import type { Config } from './config.js';

export interface Platform {
  readonly config: Config;
  readonly addresses: ListeningAddress[];
  /** The chosen ports, as written to <data-dir>/ports.json. */
  readonly ports: { http: number; mqtt: number; coap: number } & Record<string, number>;
  /** Set on first start when no admin password was configured: print it once. */
  readonly generatedAdmin?: { email: string; password: string };
  readonly adminEmail: string;
  readonly store: Store;
  readonly bus: Bus;
  readonly registry: RegistryService;
  readonly devices: DeviceService;
  readonly gateways: GatewayService;
  readonly attributes: AttributeService;
  readonly rpc: RpcService;
  /** This process's node id (config `node.id`, or the data dir's node-id file). */
  readonly nodeId: string;
  /**
   * Cluster membership says another node is gone (crashed, partitioned away): its Presence entries
   * are expired (commands stop being routed to it and wait in the outbox instead) and this node
   * takes over the persistent MQTT sessions it held, with their queued messages. Idempotent; call
   * it on one node per gone node (a second call finds nothing left). Resolves with the devices
   * whose presence was expired.
   */
  onNodeGone(nodeId: string): Promise<string[]>;
  readonly alarms: AlarmService;
  readonly commands: CommandService;
  readonly rules: Rules;
  /** Device-to-device MQTT grants (issue 15). */
  readonly mqttGrants: MqttGrantService;
  readonly logger: Logger;
  /** A new API key of the first admin, for in-process clients of the REST API (the demo's pack installer). */
  createAdminApiKey(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Device group membership for MQTT grants; the groups store supplies it (default: every group empty). */
  readonly deviceGroups?: DeviceGroupLookup;
}
