/** Device profiles: codec, telemetry key specs, provisioning key/secret. */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { permissionsOf } from './roles.js';
import type { ProfileControl } from '../domain/dashboard.js';
import { IdParams, ProfileControlSchema, ProfileView, errorResponses, profileView, ref } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['profiles'];

const DecoderSource = Type.String({
  minLength: 1,
  maxLength: 65_536,
  description: 'payload decoder: JavaScript defining decodeUplink(input), optionally encodeDownlink(input) (TTN convention); compiled at save, 400 with the error',
});

const RetentionDays = Type.Integer({
  minimum: 0,
  maximum: 36_500,
  description: "telemetry of the profile's devices older than this many days is deleted in the background (the latest values stay); absent or 0: kept for ever",
});

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    codec: Type.Optional(Type.String({ minLength: 1, description: 'payload codec, e.g. json or senml (default json)' })),
    telemetryKeys: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({ minLength: 1, maxLength: 255 }),
            type: Type.Union([Type.Literal('number'), Type.Literal('boolean'), Type.Literal('string'), Type.Literal('json')]),
            unit: Type.Optional(Type.String({ maxLength: 64 })),
            label: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'display name shown instead of the key' })),
            decimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 6, description: 'decimals a number is shown with' })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10_000 },
      ),
    ),
    provisionKey: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    provisionSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    controls: Type.Optional(Type.Array(ProfileControlSchema, { maxItems: 50 })),
    decoder: Type.Optional(DecoderSource),
    retentionDays: Type.Optional(RetentionDays),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(CreateBody.properties.name),
    telemetryKeys: CreateBody.properties.telemetryKeys,
    controls: CreateBody.properties.controls,
    decoder: Type.Optional(Type.Union([DecoderSource, Type.Null()], { description: 'new decoder source; null removes it' })),
    retentionDays: Type.Optional(Type.Union([RetentionDays, Type.Null()], { description: 'new retention; 0 or null keeps telemetry for ever' })),
  },
  { additionalProperties: false, description: 'fields given replace the stored ones' },
);

export const profileRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { registry } = deps;

  app.post(
    '/profiles',
    { schema: { tags, operationId: 'createProfile', summary: 'Create a device profile', body: CreateBody, response: { 201: ref(ProfileView), ...errorResponses } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const profile = await registry.createProfile({
        tenantId: principal.tenantId,
        name: b.name,
        ...(b.codec !== undefined ? { codec: b.codec } : {}),
        ...(b.telemetryKeys !== undefined ? { telemetryKeys: b.telemetryKeys } : {}),
        ...(b.provisionKey !== undefined ? { provisionKey: b.provisionKey } : {}),
        ...(b.provisionSecret !== undefined ? { provisionSecret: b.provisionSecret } : {}),
        ...(b.controls !== undefined ? { controls: b.controls as ProfileControl[] } : {}),
        ...(b.decoder !== undefined ? { decoder: b.decoder } : {}),
        ...(b.retentionDays !== undefined ? { retentionDays: b.retentionDays } : {}),
      });
      return reply.code(201).send(profileView(profile, allows(permissionsOf(request), 'profiles:write')));
    },
  );

  app.get(
    '/profiles',
    {
      schema: { tags, operationId: 'listProfiles', summary: "The tenant's device profiles", response: { 200: Type.Object({ items: Type.Array(ref(ProfileView)) }), ...errorResponses } },
    },
    async (request) => {
      const principal = principalOf(request);
      const profiles = await registry.listProfiles(principal.tenantId);
      return { items: profiles.map((p) => profileView(p, allows(permissionsOf(request), 'profiles:write'))) };
    },
  );

  app.get(
    '/profiles/:id',
    { schema: { tags, operationId: 'getProfile', summary: 'One device profile', params: IdParams, response: { 200: ref(ProfileView), ...errorResponses } } },
    async (request) => {
      const principal = principalOf(request);
      const profile = await registry.getProfile(request.params.id);
      if (!profile || profile.tenantId !== principal.tenantId) throw new PlatformError('PROFILE_NOT_FOUND', request.params.id);
      return profileView(profile, allows(permissionsOf(request), 'profiles:write'));
    },
  );

  app.put(
    '/profiles/:id',
    { schema: { tags, operationId: 'replaceProfile', summary: 'Rename a profile or replace its telemetry keys or command controls', params: IdParams, body: UpdateBody, response: { 200: ref(ProfileView), ...errorResponses } } },
    async (request) => {
      const principal = principalOf(request);
      const b = request.body;
      const profile = await registry.updateProfile(principal.tenantId, request.params.id, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.telemetryKeys !== undefined ? { telemetryKeys: b.telemetryKeys } : {}),
        ...(b.controls !== undefined ? { controls: b.controls as ProfileControl[] } : {}),
        ...(b.decoder !== undefined ? { decoder: b.decoder } : {}),
        ...(b.retentionDays !== undefined ? { retentionDays: b.retentionDays } : {}),
      });
      return profileView(profile, allows(permissionsOf(request), 'profiles:write'));
    },
  );

  app.delete(
    '/profiles/:id',
    {
      schema: {
        tags,
        operationId: 'deleteProfile', summary: 'Delete a device profile no device uses (not the default profile)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'deleted' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await registry.deleteProfile(principalOf(request).tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
