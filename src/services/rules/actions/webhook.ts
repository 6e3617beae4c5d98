/**
 * Notify over HTTP: POST (or PUT) JSON to a URL. Without `body`, the payload describes the event:
 * rule, device, edge and timestamp. A non-2xx answer or a timeout is a rule error.
 *
 * The URL may be templated from device data, so it is untrusted: the request goes through the
 * outbound service, which refuses loopback, private, link-local and other non-public addresses
 * (and this platform's own ports) unless the config allows them, judged on the address actually
 * connected to. Redirects are not followed: a 3xx is a rule error naming the target.
 */
import { Type } from '@sinclair/typebox';
import { isPlatformError } from '../../../domain/errors.js';
import { OutboundPolicy } from '../../../domain/outbound/policy.js';
import { defineAction, missing, type CheckEnv } from './types.js';

/** Save-time checks without a configured policy use the default one (no exceptions). */
const DEFAULT_POLICY = new OutboundPolicy();

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`webhook url must be http or https, got ${url.protocol}`);
  return url;
}

function checkTarget(url: URL, env: CheckEnv): void {
  try {
    if (env.outbound) env.outbound.checkUrl(url);
    else {
      const decision = DEFAULT_POLICY.decideLiteral(url);
      if (decision && !decision.allowed) throw new Error(decision.message);
    }
  } catch (err) {
    const reason = isPlatformError(err, 'OUTBOUND_REFUSED') ? (err.detail ?? err.message) : err instanceof Error ? err.message : String(err);
    throw new Error(`webhook url is refused by the outbound policy: ${reason}`);
  }
}

export const webhookAction = defineAction({
  type: 'webhook',
  title: 'Call webhook',
  description: 'Sends JSON to an HTTP(S) URL; fails on a non-2xx answer or after timeoutMs. Non-public addresses need an outbound.allow entry.',
  configSchema: Type.Object(
    {
      url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL; may use ${…} templates' }),
      method: Type.Union([Type.Literal('POST'), Type.Literal('PUT')], { default: 'POST' }),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
      body: Type.Optional(Type.Unknown({ description: 'JSON; strings may use ${…} templates' })),
      timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
    },
    { additionalProperties: false },
  ),
  defaults: { method: 'POST', timeoutMs: 5000 },
  check: (p, env) => {
    if (!p.url.includes('${')) checkTarget(parseUrl(p.url), env);
  },
  async run(p, ctx, deps) {
    if (!deps.outbound) throw missing('outbound HTTP');
    const url = parseUrl(p.url);
    const body = p.body ?? { rule: { id: ctx.ruleId, name: ctx.ruleName }, device: { id: ctx.deviceId, name: ctx.deviceName }, edge: ctx.edge, ts: ctx.ts };
    const res = await deps.outbound.request({
      url,
      method: p.method,
      headers: { 'content-type': 'application/json', ...(p.headers ?? {}) },
      body: JSON.stringify(body),
      timeoutMs: p.timeoutMs,
      context: { tenantId: ctx.tenantId, ruleId: ctx.ruleId, deviceId: ctx.deviceId, action: 'webhook' },
    });
    const target = `${url.origin}${url.pathname}`;
    if (res.status >= 300 && res.status < 400) throw new Error(`webhook ${target} answered ${res.status}: redirects are not followed${res.location ? ` (to ${res.location})` : ''}; point the rule at the final URL`);
    if (res.status < 200 || res.status >= 300) throw new Error(`webhook ${target} answered ${res.status}`);
    return { status: res.status };
  },
});
