/**
 * Runs one connection's interceptors (interceptor.ts) in order. The stages are attached once,
 * when the connection opens, into a plain array; a PUBLISH walks it with an index, so the chain
 * itself allocates nothing per message (the one closure below exists only for a handled PUBLISH,
 * to map a refusal to its reason code with the topic in the log).
 */
import { asPlatformError } from '../../../domain/errors.js';
import type { Logger } from '../../../ports.js';
import type { TransportMetrics } from '../../../ports/device-api.js';
import type { ClientInterceptor, ClientLink, InterceptedPublish, Interceptor, QoS } from './interceptor.js';

/** What the runner needs to count and log a refusal. */
export interface PipelineEnv {
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
}

/** The interceptors that attached to this client, in the composition root's order; undefined when none did. */
export function attachStages(interceptors: readonly Interceptor[], link: ClientLink): ClientInterceptor[] | undefined {
  let stages: ClientInterceptor[] | undefined;
  for (const interceptor of interceptors) {
    const stage = interceptor.attach(link);
    if (stage) (stages ??= []).push(stage);
  }
  return stages;
}

const SUCCESS = (): number => 0;

/**
 * undefined: every stage passed, the broker routes it. Otherwise the PUBACK/PUBREC reason code
 * (0 = success), or a promise of it that never rejects.
 */
export function interceptPublish(env: PipelineEnv, link: ClientLink, stages: readonly ClientInterceptor[], p: InterceptedPublish): Promise<number> | number | undefined {
  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i] as ClientInterceptor;
    let work: Promise<unknown> | undefined;
    try {
      work = stage.publish(p);
    } catch (err) {
      return refused(env, link, stage, p.topic, err);
    }
    if (work !== undefined) return work.then(SUCCESS, (err: unknown) => refused(env, link, stage, p.topic, err));
  }
  return undefined;
}

/** Counted here, once per answer (the DeviceApi does not count); info, as the DeviceApi logs its own rejections at warn. */
function refused(env: PipelineEnv, link: ClientLink, stage: ClientInterceptor, topic: string, err: unknown): number {
  const e = asPlatformError(err);
  env.metrics.reject('mqtt', e.code);
  const deviceId = link.principal.identity?.deviceId;
  env.logger.info({ interceptor: stage.name, clientId: link.clientId, ...(deviceId ? { deviceId } : {}), topic, error: e.code, reason: e.message }, 'mqtt publish refused');
  // MQTT 3.1.1 has no negative PUBACK and a positive one would claim the message stored: a
  // message a tenant quota refused is answered as one the server could not store (connection
  // closed unacknowledged, the client sends it again after reconnecting), never acknowledged.
  if (link.protocolVersion !== 5 && TENANT_QUOTA_CODES.has(e.code)) return SERVER_UNAVAILABLE;
  return e.spec.mqtt;
}

const TENANT_QUOTA_CODES: ReadonlySet<string> = new Set(['TENANT_RATE_LIMITED', 'TENANT_QUOTA_EXCEEDED']);
/** The code InboundAcks turns into "closed unacknowledged" for MQTT 3.1.1 (inbound-acks.ts). */
const SERVER_UNAVAILABLE = 0x88;

/** undefined: no stage took the filter. Otherwise the SUBACK code (granted QoS, or a refusal's reason code). */
export function interceptSubscribe(stages: readonly ClientInterceptor[], filter: string, qos: QoS): number | undefined {
  for (const stage of stages) {
    let granted: QoS | undefined;
    try {
      granted = stage.subscribe(filter, qos);
    } catch (err) {
      return asPlatformError(err).spec.mqtt;
    }
    if (granted !== undefined) return granted;
  }
  return undefined;
}

/** true when a stage owned the filter. */
export function interceptUnsubscribe(stages: readonly ClientInterceptor[], filter: string): boolean {
  for (const stage of stages) if (stage.unsubscribe(filter)) return true;
  return false;
}

export function pingStages(stages: readonly ClientInterceptor[]): void {
  for (const stage of stages) stage.ping();
}

/** Every stage hears of the end, even when one of them fails. */
export function closeStages(env: PipelineEnv, stages: readonly ClientInterceptor[]): void {
  for (const stage of stages) {
    try {
      stage.close();
    } catch (err) {
      env.logger.error({ err, interceptor: stage.name }, 'mqtt interceptor failed to close');
    }
  }
}
