/** Trying a profile's payload decoder on sample bytes (docs/DEVICE-API.md "Raw payloads"). */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['profiles'];

const TestBody = Type.Object(
  {
    bytes: Type.String({ minLength: 1, maxLength: 131_072, description: 'the payload as hex (e.g. "01a2ff") or base64' }),
    fPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  },
  { additionalProperties: false },
);

const TestResult = Type.Object({
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'what decodeUplink returned as data; null when it failed' }),
  warnings: Type.Array(Type.String()),
  errors: Type.Array(Type.String(), { description: 'the decoder\'s own errors, or why it failed (time, memory limit, exception)' }),
  durationMs: Type.Number(),
});

/** Hex when it reads as hex (even length, hex digits only), base64 otherwise. */
export function parseSampleBytes(text: string): Buffer {
  const t = text.trim();
  if (/^([0-9a-fA-F]{2})+$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(t) && t.length % 4 === 0) return Buffer.from(t, 'base64');
  throw new PlatformError('BAD_REQUEST', 'bytes must be hex or base64');
}

export const profileDecoderRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/profiles/:id/decoder/test',
    {
      schema: {
        tags,
        operationId: 'testProfileDecoder',
        summary: "Run the profile's payload decoder on sample bytes",
        params: IdParams,
        body: TestBody,
        response: { 200: TestResult, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const profile = await deps.registry.getProfile(request.params.id);
      if (!profile || profile.tenantId !== principal.tenantId) throw new PlatformError('PROFILE_NOT_FOUND', request.params.id);
      if (profile.decoder === undefined) throw new PlatformError('BAD_REQUEST', 'the profile has no decoder');
      if (!deps.decoders?.enabled) throw new PlatformError('BAD_REQUEST', 'payload decoders are not enabled on this platform');
      const bytes = parseSampleBytes(request.body.bytes);
      const started = performance.now();
      try {
        const out = await deps.decoders.decode(
          { profileId: profile.id, source: profile.decoder },
          { bytes: [...bytes], ...(request.body.fPort !== undefined ? { fPort: request.body.fPort } : {}) },
        );
        return { data: out.data, warnings: (out.warnings ?? []).map(String), errors: [], durationMs: performance.now() - started };
      } catch (err) {
        // The decoder's failure is the answer here, not an error of the request.
        if (!(err instanceof PlatformError) || err.code !== 'MALFORMED_PAYLOAD') throw err;
        return { data: null, warnings: [], errors: [err.detail ?? err.message], durationMs: performance.now() - started };
      }
    },
  );
};
