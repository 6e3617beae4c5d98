/**
 * A Prometheus-compatible read API over telemetry (issue 18 item 9), for Grafana's Prometheus
 * data source (URL `<platform>/api/prom`, HTTP method GET, header `Authorization: Bearer <API
 * key>`). `GET /api/prom/api/v1/query_range` and `/query` take one selector,
 * `key{device="name"}` (prom-selector.ts); answers are Prometheus's JSON (`matrix`/`vector`,
 * times in seconds, values as strings). The caller's tenant and customer scope apply: a device
 * it may not see is no series, exactly like a device that does not exist.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canSeeDevice } from '../domain/customers.js';
import type { Device } from '../domain/device.js';
import type { ApiDeps } from './deps.js';
import { scopeOf } from './access.js';
import { parseSelector, type Selector } from './prom-selector.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

/** Prometheus's own cap on the points of one series in a range query. */
const MAX_POINTS = 11_000;
/** How far back an instant query looks for the latest point (Prometheus's default lookback). */
const LOOKBACK_MS = 5 * 60_000;

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

class BadData extends Error {}

/** Unix seconds (possibly fractional) or RFC 3339, as epoch ms. */
function timeOf(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  const ms = Number.isFinite(n) ? Math.round(n * 1000) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new BadData(`invalid time ${JSON.stringify(text.slice(0, 40))}`);
  return ms;
}

/** Seconds (possibly fractional) or a duration like 15s, 1m, 1h, as ms. */
function durationOf(text: string): number {
  const n = Number(text);
  const unit = /^(\d+)(ms|s|m|h|d|w)$/.exec(text);
  const ms = Number.isFinite(n) ? Math.round(n * 1000) : unit ? Number(unit[1]) * (UNITS[unit[2] as string] ?? 0) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new BadData(`invalid step ${JSON.stringify(text.slice(0, 40))}`);
  return ms;
}

function selectorOf(query: string): Selector {
  try {
    return parseSelector(query);
  } catch (err) {
    throw new BadData(err instanceof Error ? err.message : String(err));
  }
}

function sendBadData(reply: FastifyReply, error: string) {
  return reply.code(400).send({ status: 'error', errorType: 'bad_data', error });
}

const PromAnswer = Type.Object(
  {
    status: Type.String(),
    data: Type.Optional(Type.Object({ resultType: Type.String(), result: Type.Array(Type.Unknown()) })),
    errorType: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
  },
  { description: 'the Prometheus HTTP API answer shape' },
);

export const promRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  const tags = ['prometheus'];

  /** The device the selector's labels name, if the caller may see it. */
  async function deviceOf(request: FastifyRequest, selector: Selector): Promise<Device | undefined> {
    const scope = scopeOf(request);
    const { device: name, device_id: id } = selector.labels;
    if (name === undefined && id === undefined) throw new BadData('the selector needs a device="name" or device_id="id" label');
    const device = id !== undefined ? await deps.registry.getDevice(id) : await deps.registry.findDeviceByName(scope.tenantId, name as string);
    if (!device || !canSeeDevice(scope, device) || (name !== undefined && device.name !== name)) return undefined;
    return device;
  }
  const metricOf = (selector: Selector, device: Device) => ({ __name__: selector.key, device: device.name, device_id: device.id });

  app.get(
    '/prom/api/v1/query_range',
    {
      schema: {
        tags,
        operationId: 'promQueryRange',
        summary: 'Prometheus range query over telemetry (for Grafana): key{device="name"} → one series, each step the average of the points in the step before it',
        querystring: Type.Object({
          query: Type.String({ minLength: 1, maxLength: 1024 }),
          start: Type.String({ maxLength: 64 }),
          end: Type.String({ maxLength: 64 }),
          step: Type.String({ maxLength: 32 }),
        }),
        response: { 200: PromAnswer, ...errorResponses, 400: Type.Any({ description: "a Prometheus error body (bad_data) or the platform's error body (a query that fails its schema)" }) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      try {
        const selector = selectorOf(q.query);
        const start = timeOf(q.start, 0);
        const end = timeOf(q.end, 0);
        const step = durationOf(q.step);
        if (end < start) throw new BadData('end is before start');
        if ((end - start) / step + 1 > MAX_POINTS) throw new BadData(`exceeded maximum resolution of ${MAX_POINTS} points per timeseries: try a larger step`);
        const device = await deviceOf(request, selector);
        if (!device) return { status: 'success', data: { resultType: 'matrix', result: [] } };
        // Buckets (t − step, t] for t = start, start + step, …: Prometheus's "look back one step".
        const series = await deps.telemetry.aggregated(device.tenantId, device.id, { keys: [selector.key], from: start - step + 1, to: end, interval: step, agg: 'avg' });
        const values = (series[selector.key] ?? []).filter((p) => typeof p.value === 'number').map((p) => [(p.ts + step - 1) / 1000, String(p.value)]);
        return { status: 'success', data: { resultType: 'matrix', result: values.length > 0 ? [{ metric: metricOf(selector, device), values }] : [] } };
      } catch (err) {
        if (err instanceof BadData) return sendBadData(reply, err.message);
        throw err;
      }
    },
  );

  app.get(
    '/prom/api/v1/query',
    {
      schema: {
        tags,
        operationId: 'promQuery',
        summary: 'Prometheus instant query over telemetry (for Grafana): the latest value of key{device="name"} at time, looking back 5 minutes',
        querystring: Type.Object({ query: Type.String({ minLength: 1, maxLength: 1024 }), time: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: PromAnswer, ...errorResponses, 400: Type.Any({ description: "a Prometheus error body (bad_data) or the platform's error body (a query that fails its schema)" }) },
      },
    },
    async (request, reply) => {
      try {
        const selector = selectorOf(request.query.query);
        const time = timeOf(request.query.time, Date.now());
        const device = await deviceOf(request, selector);
        if (!device) return { status: 'success', data: { resultType: 'vector', result: [] } };
        const series = await deps.telemetry.raw(device.tenantId, device.id, { keys: [selector.key], from: time - LOOKBACK_MS, to: time, limit: 1, order: 'desc' });
        const point = series[selector.key]?.[0];
        const result = point && typeof point.value === 'number' ? [{ metric: metricOf(selector, device), value: [time / 1000, String(point.value)] }] : [];
        return { status: 'success', data: { resultType: 'vector', result } };
      } catch (err) {
        if (err instanceof BadData) return sendBadData(reply, err.message);
        throw err;
      }
    },
  );
};
