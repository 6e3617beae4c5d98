/**
 * The broker's extension point: a list of interceptors, built by the composition root
 * (apps/platform.ts: `[sparkplug, deviceApi]`) and run in that order for every authenticated
 * connection. This is the MQTT adapter's own port, not one of ports.ts: it speaks MQTT (topic
 * filters, QoS, per-connection state) and only MQTT adapters implement it (the device API bridge,
 * Sparkplug), so none of them imports another; the broker imports none of them.
 *
 * For a PUBLISH or SUBSCRIBE, each interceptor in turn either
 *   - passes it on (returns PASS = undefined): the next one sees it; after the last, the broker
 *     routes it under the AuthPolicy's ACL (auth.ts);
 *   - handles it (returns a promise / a granted QoS): the chain stops; the PUBACK/PUBREC waits for
 *     the promise, success when it resolves;
 *   - refuses it: throws (or the promise rejects with) a PlatformError, whose catalogue entry's
 *     MQTT reason code (domain/errors.ts `spec.mqtt`) becomes the PUBACK/PUBREC/SUBACK code; the
 *     broker counts and logs it once (pipeline.ts).
 * PINGREQ and the connection's end reach every interceptor, in order.
 *
 * Authentication and the ACL stay in the AuthPolicy: one CONNECT has one principal, and routed
 * client-to-client traffic one decision; interceptors see only authenticated clients.
 */
import type { Principal } from './auth.js';
import type { QoS } from './session.js';

export type { QoS };

/** What a connection offers interceptors. */
export interface ClientLink {
  readonly clientId: string;
  /** The peer's IP address (device provisioning counts failures per address). */
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: number;
  readonly principal: Principal;
  /** PUBLISH to this client only, never routed (device API responses, RPC requests, attribute pushes). */
  send(topic: string, payload: Buffer | string, qos: QoS): void;
}

export interface InterceptedPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  /** MQTT 5 Content Type property, if any. */
  readonly contentType: string | undefined;
}

/** "Not mine": the next interceptor (or the broker's routing) gets the packet. */
export const PASS = undefined;

/** One interceptor's state for one connection. */
export interface ClientInterceptor {
  /** For logs and metrics. */
  readonly name: string;
  /** PASS, or the work whose settling acknowledges the PUBLISH; may throw a PlatformError to refuse it. */
  publish(p: InterceptedPublish): Promise<unknown> | undefined;
  /** PASS, or the granted QoS; may throw a PlatformError to refuse the filter. */
  subscribe(filter: string, qos: QoS): QoS | undefined;
  /** true when the filter was one of this interceptor's (the chain stops). */
  unsubscribe(filter: string): boolean;
  ping(): void;
  /** The connection ended. Never throws. */
  close(): void;
}

/** One stage of the pipeline, built once by the composition root. */
export interface Interceptor {
  readonly name: string;
  /**
   * Called once per authenticated connection; when it resumes a session, the filters stages had
   * taken are then given to `subscribe` again. undefined: nothing to do with this client, and it
   * costs that client nothing per message.
   */
  attach(link: ClientLink): ClientInterceptor | undefined;
}
