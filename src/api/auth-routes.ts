/**
 * POST /api/auth/login (public, throttled per account and address), and the caller's own
 * session: GET /api/auth/me, POST /api/auth/logout, POST /api/auth/password, API keys.
 */
import { Type } from '@sinclair/typebox';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { isPlatformError, PlatformError } from '../domain/errors.js';
import { normalizeEmail } from '../services/auth.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { errorResponses, IdParams } from './schemas.js';
import { PasswordField } from './users.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['auth'];

const ApiKeySchema = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Optional(Type.Integer()),
});

export const loginRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        operationId: 'login', summary: 'Exchange email and password for a JWT',
        security: [],
        body: Type.Object(
          { email: Type.String({ minLength: 1, maxLength: 255 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const email = request.body.email;
      try {
        const session = await deps.auth.login(email, request.body.password, request.ip);
        const principal = await deps.auth.verifyToken(session.token);
        deps.audit?.record({ tenantId: principal.tenantId, actor: principal.userId, actorName: normalizeEmail(email), action: 'auth.login', address: request.ip });
        return session;
      } catch (err) {
        // The email is kept as typed (bounded by the schema): it is what an investigation searches for.
        const refused = isPlatformError(err, 'RATE_LIMITED') || isPlatformError(err, 'UNAVAILABLE');
        deps.audit?.record({ tenantId: DEFAULT_TENANT_ID, actor: 'anonymous', actorName: normalizeEmail(email), action: 'auth.login_failed', outcome: refused ? 'denied' : 'failure', address: request.ip });
        request.log.info({ email: normalizeEmail(email), address: request.ip, reason: isPlatformError(err) ? err.code : 'error' }, 'sign-in refused');
        throw err;
      }
    },
  );
};

export const authRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/auth/me',
    {
      schema: {
        tags,
        operationId: 'getCurrentUser', summary: 'The calling user',
        response: {
          200: Type.Object({ id: Type.String(), email: Type.String(), role: Type.String(), tenantId: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = await deps.auth.getUser(principal.userId);
      if (!user) throw new PlatformError('UNAUTHORIZED', 'user no longer exists');
      return { id: user.id, email: user.email, role: user.role, tenantId: user.tenantId };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags,
        operationId: 'logout', summary: "Sign out everywhere: every token issued to the caller so far answers 401 (API keys are revoked one by one)",
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.auth.users.revokeTokens(principalOf(request).userId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/password',
    {
      schema: {
        tags,
        operationId: 'changePassword', summary: "Change the caller's password (needs the current one); other sessions end, the answer carries a new token",
        body: Type.Object({ currentPassword: PasswordField, newPassword: PasswordField }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const user = await deps.auth.changeOwnPassword(principalOf(request).userId, request.body.currentPassword, request.body.newPassword, request.ip);
      request.log.info({ userId: user.id }, 'password changed');
      return deps.auth.issueToken(user);
    },
  );

  app.get(
    '/auth/api-keys',
    {
      schema: {
        tags,
        operationId: 'listApiKeys', summary: "The caller's API keys (never the keys themselves)",
        response: { 200: Type.Array(ApiKeySchema), ...errorResponses },
      },
    },
    async (request) => deps.auth.listApiKeys(principalOf(request).userId),
  );

  app.post(
    '/auth/api-keys',
    {
      schema: {
        tags,
        operationId: 'createApiKey', summary: 'Create an API key for the calling user (the key is shown only in this answer); expiresAt (epoch ms) is optional',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), expiresAt: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), key: Type.String(), expiresAt: Type.Optional(Type.Integer()) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await deps.auth.createApiKey(principalOf(request).userId, request.body.name, request.body.expiresAt);
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/auth/api-keys/:id',
    {
      schema: {
        tags,
        operationId: 'revokeApiKey', summary: "Revoke one of the caller's API keys; the next request with it answers 401",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.auth.deleteApiKey(principalOf(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
