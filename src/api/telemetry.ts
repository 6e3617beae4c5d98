/** Time-series reads: raw or aggregated ranges, latest values, key lists. */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { CSV_HEADER, csvRows } from '../domain/csv.js';
import { PlatformError } from '../domain/errors.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses, splitList } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['telemetry'];

const TsValue = Type.Object({
  ts: Type.Integer(),
  value: Type.Unknown({ description: 'number, boolean, string or JSON' }),
});

const KeysQuery = Type.Optional(Type.String({ description: 'comma-separated keys; absent = every key of the device' }));

const RangeQuery = Type.Object({
  keys: KeysQuery,
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, inclusive (default 0)' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, inclusive (default now)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'points per key for raw reads (default 100, capped at 100,000)' })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })),
  interval: Type.Optional(Type.Integer({ minimum: 1, description: 'bucket width in ms: switches to aggregated reads' })),
  agg: Type.Optional(
    Type.Union([Type.Literal('avg'), Type.Literal('min'), Type.Literal('max'), Type.Literal('sum'), Type.Literal('count')], {
      description: 'aggregation per bucket (default avg); needs interval',
    }),
  ),
});

export const telemetryRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { telemetry } = deps;

  app.get(
    '/devices/:id/telemetry',
    {
      schema: {
        tags,
        operationId: 'getTelemetry', summary: 'Points in a time range, raw or aggregated in buckets of `interval` ms',
        params: IdParams,
        querystring: RangeQuery,
        response: { 200: Type.Record(Type.String(), Type.Array(TsValue)), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const q = request.query;
      const range = {
        ...(q.keys !== undefined ? { keys: splitList(q.keys) } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      };
      if (q.interval !== undefined) {
        if (q.limit !== undefined) throw new PlatformError('BAD_REQUEST', 'limit applies to raw reads only (drop interval or limit)');
        return telemetry.aggregated(tenantId, request.params.id, { ...range, interval: q.interval, agg: q.agg ?? 'avg' });
      }
      if (q.agg !== undefined) throw new PlatformError('BAD_REQUEST', 'agg needs interval');
      return telemetry.raw(tenantId, request.params.id, {
        ...range,
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.order !== undefined ? { order: q.order } : {}),
      });
    },
  );

  app.get(
    '/devices/:id/telemetry/export',
    {
      schema: {
        tags,
        operationId: 'exportTelemetryCsv', summary: 'Every raw point of a range as CSV (`ts,key,value`; ts ISO 8601 UTC), streamed, no cap',
        description:
          'Rows key by key (sorted), oldest first. Text values that a spreadsheet would evaluate (starting with = + - @) are prefixed with a single quote. ' +
          'Read from the store page by page as the client takes the rows; a client that disconnects stops the read.',
        params: IdParams,
        querystring: Type.Object({
          keys: KeysQuery,
          from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, inclusive (default 0)' })),
          to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, inclusive (default now)' })),
          format: Type.Union([Type.Literal('csv')], { default: 'csv' }),
        }),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv: header `ts,key,value`, CRLF line ends' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const q = request.query;
      // Checks tenant, device and range before the first byte: a refusal is a JSON error, not a cut stream.
      const pages = await telemetry.export(tenantId, request.params.id, {
        ...(q.keys !== undefined ? { keys: splitList(q.keys) } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      });
      async function* csv(): AsyncGenerator<string> {
        yield CSV_HEADER;
        for await (const page of pages) yield csvRows(page.key, page.points);
      }
      // Readable.from pulls one page per read: the socket's backpressure paces the store reads.
      const body = Readable.from(csv(), { objectMode: false, highWaterMark: 64 * 1024 });
      // A client gone mid-export: stop reading the store (destroying the stream ends the generator).
      request.raw.once('close', () => {
        if (!body.readableEnded) body.destroy();
      });
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="telemetry-${request.params.id.replace(/[^A-Za-z0-9_-]/g, '_')}.csv"`)
        .header('cache-control', 'no-store');
      // A stream is written as is (Fastify skips serialization for it); the 200 schema documents the CSV.
      return reply.send(body as unknown as string);
    },
  );

  app.get(
    '/devices/:id/telemetry/latest',
    {
      schema: {
        tags,
        operationId: 'getLatestTelemetry', summary: 'The newest point of each key',
        params: IdParams,
        querystring: Type.Object({ keys: KeysQuery }),
        response: { 200: Type.Record(Type.String(), TsValue), ...errorResponses },
      },
    },
    async (request) => telemetry.latest(principalOf(request).tenantId, request.params.id, splitList(request.query.keys)),
  );

  app.get(
    '/devices/:id/telemetry/keys',
    {
      schema: {
        tags,
        operationId: 'listTelemetryKeys', summary: 'Every key the device has reported',
        params: IdParams,
        response: { 200: Type.Array(Type.String()), ...errorResponses },
      },
    },
    async (request) => telemetry.keys(principalOf(request).tenantId, request.params.id),
  );
};
