/** Forecasts of a device's telemetry from its hourly roll-ups (the candidate that backtests best, docs/RULES.md "Seasonal baseline and forecasts"). */
import { Type } from '@sinclair/typebox';
import { parseDuration } from '../domain/duration.js';
import { PlatformError } from '../domain/errors.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const ForecastPoint = Type.Object({
  ts: Type.Integer({ description: 'start of the hour (ms since epoch)' }),
  value: Type.Number(),
  lower: Type.Number({ description: 'lower bound of the 95 % prediction interval' }),
  upper: Type.Number({ description: 'upper bound of the 95 % prediction interval' }),
});

const ForecastModel = Type.Object({
  name: Type.String({ description: 'the model that forecast, chosen by backtest on the key\'s history: holt-winters, seasonal-naive-week, seasonal-mean-3w, seasonal-median-4w+level, …' }),
  mae: Type.Number({ description: 'mean absolute error of its day-ahead backtest forecasts' }),
  historyHours: Type.Integer(),
  interval: Type.Number(),
  backtest: Type.Object({
    origins: Type.Integer({ description: 'forecasts made in the backtest (one a day over the last two weeks; 0 below nine days of history, when Holt–Winters forecasts alone)' }),
    horizonHours: Type.Integer(),
    candidates: Type.Array(Type.Object({ name: Type.String(), mae: Type.Union([Type.Number(), Type.Null()]) })),
  }),
  holtWinters: Type.Object(
    {
      alpha: Type.Number(),
      beta: Type.Number(),
      gamma: Type.Number(),
      delta: Type.Number({ description: '0 when the history is shorter than two weeks (daily season only)' }),
      weekly: Type.Boolean(),
      sigma: Type.Number({ description: 'one-step-ahead error σ on the backtest part of the history' }),
      mae: Type.Number(),
    },
    { description: 'the Holt–Winters fit, made whichever candidate won' },
  ),
});

export const forecastRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/devices/:id/forecast',
    {
      schema: {
        tags: ['telemetry'],
        operationId: 'getForecast', summary: 'Hourly forecast of a key with 95 % prediction intervals, by the model that backtests best on its hourly roll-ups (Holt–Winters or a seasonal rule)',
        params: IdParams,
        querystring: Type.Object({
          key: Type.String({ minLength: 1, maxLength: 255 }),
          horizon: Type.Optional(Type.String({ maxLength: 32, description: 'how far ahead: a duration such as "24h" or "7d" (default 24h, at most 14d)' })),
        }),
        response: { 200: Type.Object({ key: Type.String(), points: Type.Array(ForecastPoint), model: Type.Union([ForecastModel, Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const text = request.query.horizon ?? '24h';
      const ms = parseDuration(text);
      if (ms === undefined || ms <= 0) throw new PlatformError('BAD_REQUEST', `horizon "${text}" is not a duration (e.g. "24h", "7d")`);
      return deps.telemetry.forecast(tenantId, request.params.id, request.query.key, ms);
    },
  );

  app.get(
    '/devices/:id/baseline',
    {
      schema: {
        tags: ['telemetry'],
        operationId: 'getBaseline',
        summary: 'Hour-of-week baseline of a key (what expected() and deviation() read): 168 slot means and the pooled robust σ, from the hourly roll-ups',
        params: IdParams,
        querystring: Type.Object({ key: Type.String({ minLength: 1, maxLength: 255 }) }),
        response: {
          200: Type.Object({
            key: Type.String(),
            expected: Type.Array(Type.Union([Type.Number(), Type.Null()]), { minItems: 168, maxItems: 168, description: 'slot means, index 0 = Monday 00:00–01:00 UTC; null below two values in the slot' }),
            sigma: Type.Number({ description: 'pooled robust σ (1.4826 × median absolute residual): deviation() = (value − expected) / σ' }),
            samples: Type.Integer(),
            historyHours: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => deps.telemetry.baseline(principalOf(request).tenantId, request.params.id, request.query.key),
  );
};
