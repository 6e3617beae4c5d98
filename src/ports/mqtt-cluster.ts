/**
 * The MQTT broker's link to the other nodes of a cluster (ports.ts re-exports this file): each node
 * runs its own broker, and this is what they tell each other so a client may connect to any node.
 * - Session takeover [MQTT-3.1.4-3] across nodes: a node that attaches a session announces it; a
 *   node holding a connection of the same session closes it (MQTT 5: DISCONNECT 0x8E). All nodes
 *   see the announcements in one order (the bus keeps it), and the one announced last wins.
 * - Routing: an application message routed on one node (a device-to-device topic, an
 *   application topic, a will) is forwarded to the others, which route it to their own
 *   subscribers (each applying the ACLs it checked when they subscribed) and keep it if retained.
 * Single node: no link (or one that never hears anything).
 */
import type { BrokerMessageRecord } from './broker-state.js';

/** A session attached on some node (the announcing node's id is `nodeId`). */
export interface MqttSessionAnnouncement {
  /** The broker's session key: topic space, owner (device or application) and client id. */
  readonly key: string;
  readonly space: string;
  /** Unique per attach, so a node recognises its own announcement of its current connection. */
  readonly token: string;
  readonly nodeId: string;
}

/** A message routed on `nodeId`, to be routed on the other nodes too. */
export interface MqttForwarded {
  readonly space: string;
  readonly message: BrokerMessageRecord;
  /** Who the retained quota counts it against. */
  readonly owner: string;
  readonly nodeId: string;
}

export interface MqttClusterHandlers {
  /** Every announcement, this node's own included (in the one order all nodes see). */
  announced(a: MqttSessionAnnouncement): void;
  /** Messages other nodes routed (never this node's own). */
  forwarded(m: MqttForwarded): void;
}

export interface MqttClusterLink {
  /** This node's id (config `node.id`). */
  readonly nodeId: string;
  /** Tells every node (this one too) that this node attached a session. Never throws: a failure is logged. */
  announce(a: Omit<MqttSessionAnnouncement, 'nodeId'>): void;
  /** Hands a message this node routed to the other nodes. Never throws: a failure is logged. */
  forward(m: Omit<MqttForwarded, 'nodeId'>): void;
  /** Starts hearing the other nodes; the function stops it. */
  listen(handlers: MqttClusterHandlers): () => void;
}
