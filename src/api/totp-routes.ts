/**
 * The caller's TOTP second factor (services/auth-totp.ts): enrol (secret + otpauth URI, inactive
 * until confirmed), confirm with a first code (answers the recovery codes, once), remove with a
 * code or the password, and its status. Every route acts on the caller only.
 */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['auth'];
const Code = Type.String({ minLength: 1, maxLength: 64 });

export const totpRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  async function caller(userId: string): Promise<{ id: string; email: string }> {
    const user = await deps.auth.getUser(userId);
    if (!user) throw new PlatformError('UNAUTHORIZED', 'user no longer exists');
    if (user.passwordHash.startsWith('!')) throw new PlatformError('BAD_REQUEST', 'this account signs in through single sign-on: its provider handles second factors');
    return user;
  }

  app.get(
    '/auth/totp',
    {
      schema: {
        tags,
        operationId: 'getTotp', summary: "The caller's second factor: active, pending confirmation, recovery codes left",
        response: { 200: Type.Object({ active: Type.Boolean(), pending: Type.Boolean(), recoveryCodesLeft: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => deps.auth.totp.status(principalOf(request).userId),
  );

  app.post(
    '/auth/totp/enroll',
    {
      schema: {
        tags,
        operationId: 'enrollTotp', summary: 'Start a TOTP enrolment: a new secret and its otpauth:// URI (not active until confirmed)',
        response: { 200: Type.Object({ secret: Type.String(), uri: Type.String() }), ...errorResponses },
      },
    },
    async (request) => {
      const user = await caller(principalOf(request).userId);
      return deps.auth.totp.enroll(user.id, user.email);
    },
  );

  app.post(
    '/auth/totp/confirm',
    {
      schema: {
        tags,
        operationId: 'confirmTotp', summary: 'Activate the second factor with a code from the authenticator; answers ten one-time recovery codes (shown only here)',
        body: Type.Object({ code: Code }, { additionalProperties: false }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = await caller(principal.userId);
      const recoveryCodes = await deps.auth.totp.confirm(user.id, user.email, request.body.code);
      deps.audit?.record({ tenantId: principal.tenantId, actor: user.id, actorName: user.email, action: 'auth.totp_enabled', address: request.ip });
      return { recoveryCodes };
    },
  );

  app.delete(
    '/auth/totp',
    {
      schema: {
        tags,
        operationId: 'removeTotp', summary: 'Remove the second factor; proves the caller again with a current code (or recovery code) or the password',
        body: Type.Union([Type.Object({ code: Code }, { additionalProperties: false }), Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false })]),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await deps.auth.removeTotp(principal.userId, request.body, request.ip);
      deps.audit?.record({ tenantId: principal.tenantId, actor: principal.userId, ...(principal.email ? { actorName: principal.email } : {}), action: 'auth.totp_removed', address: request.ip });
      return reply.code(204).send(null);
    },
  );
};
