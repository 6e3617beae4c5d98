/**
 * OTA signing keys and policy (issue 16, docs/OTA.md "Signed packages").
 *
 *   POST   /api/ota/keys {name, publicKey}   Ed25519 public key, PEM or base64 of the raw 32 bytes → 201
 *   GET    /api/ota/keys                     DELETE /api/ota/keys/{id}
 *   GET    /api/ota/settings                 PUT /api/ota/settings {requireSigned}
 *
 * Only public keys ever arrive here; writes need ota:write (route-permissions.ts) and are audited
 * by the audit hook like every API write.
 */
import { Type } from '@sinclair/typebox';
import type { OtaSigningKey } from '../domain/ota-signing.js';
import type { OtaSigningService } from '../services/ota-signing.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['ota'];

const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  publicKey: Type.String({ description: 'Ed25519 public key, raw 32 bytes, base64' }),
  createdAt: Type.Integer(),
});

const SettingsView = Type.Object(
  { requireSigned: Type.Boolean({ description: 'uploads and external packages without a valid signature are refused (400 SIGNATURE_INVALID)' }) },
  { additionalProperties: false },
);

const keyView = (k: OtaSigningKey) => ({ id: k.id, name: k.name, publicKey: k.publicKey, createdAt: k.createdAt });

export const otaKeyRoutes: ApiPlugin<{ signing: OtaSigningService }> = async (app, { signing }) => {
  app.post(
    '/ota/keys',
    {
      schema: {
        tags,
        operationId: 'addOtaSigningKey', summary: 'Register an Ed25519 public key that package signatures are verified with; admin',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 128 }),
            publicKey: Type.String({ minLength: 1, maxLength: 1024, description: 'PEM (SPKI) or base64 of the raw 32 bytes' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: KeyView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = await signing.addKey(principalOf(request).tenantId, request.body.name, request.body.publicKey);
      return reply.code(201).send(keyView(key));
    },
  );

  app.get(
    '/ota/keys',
    { schema: { tags, operationId: 'listOtaSigningKeys', summary: "The tenant's package signing keys (public)", response: { 200: Type.Array(KeyView), ...errorResponses } } },
    async (request) => (await signing.listKeys(principalOf(request).tenantId)).map(keyView),
  );

  app.delete(
    '/ota/keys/:id',
    {
      schema: {
        tags,
        operationId: 'deleteOtaSigningKey', summary: 'Delete a signing key: new uploads are no longer verified with it (packages signed before keep their signature); admin',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await signing.deleteKey(principalOf(request).tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/ota/settings',
    { schema: { tags, operationId: 'getOtaSettings', summary: "The tenant's OTA policy", response: { 200: SettingsView, ...errorResponses } } },
    async (request) => signing.settings(principalOf(request).tenantId),
  );

  app.put(
    '/ota/settings',
    {
      schema: {
        tags,
        operationId: 'putOtaSettings', summary: "Set the tenant's OTA policy (require signed packages); admin",
        body: SettingsView,
        response: { 200: SettingsView, ...errorResponses },
      },
    },
    async (request) => signing.putSettings(principalOf(request).tenantId, request.body),
  );
};
