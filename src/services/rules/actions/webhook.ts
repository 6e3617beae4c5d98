/**
 * Notify over HTTP: POST (or PUT) JSON to a URL. Without `body`, the payload describes the event:
 * rule, device, edge and timestamp. A non-2xx answer or a timeout is a rule error.
 */
import { Type } from '@sinclair/typebox';
import { defineAction, missing } from './types.js';

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

export const webhookAction = defineAction({
  type: 'webhook',
  title: 'Call webhook',
  description: 'Sends JSON to an HTTP(S) URL; fails on a non-2xx answer or after timeoutMs.',
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
  check: (p) => {
    if (!p.url.includes('${')) parseUrl(p.url);
  },
  async run(p, ctx, deps) {
    const doFetch = deps.fetch ?? globalThis.fetch;
    if (!doFetch) throw missing('fetch');
    const url = parseUrl(p.url);
    const body = p.body ?? { rule: { id: ctx.ruleId, name: ctx.ruleName }, device: { id: ctx.deviceId, name: ctx.deviceName }, edge: ctx.edge, ts: ctx.ts };
    const res = await doFetch(url, {
      method: p.method,
      headers: { 'content-type': 'application/json', ...(p.headers ?? {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(p.timeoutMs),
    });
    // The body is drained so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`webhook ${url.origin}${url.pathname} answered ${res.status}`);
    return { status: res.status };
  },
});
