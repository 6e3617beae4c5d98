/**
 * POST /api/auth/login (public, throttled per account and address), and the caller's own
 * session: GET /api/auth/me, POST /api/auth/logout, POST /api/auth/password, API keys.
 */
import { normalizeRole } from '../domain/permissions.js';
import { Type } from '@sinclair/typebox';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { isPlatformError, PlatformError } from '../domain/errors.js';
import { normalizeEmail } from '../services/auth.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { permissionsOf } from './roles.js';
import { errorResponses, IdParams } from './schemas.js';
import { PasswordField, RoleSchema } from './users.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['auth'];

const ApiKeySchema = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Optional(Type.Integer()),
  /** The role requests with the key get; absent: the owner's role at the time of each request. */
  role: Type.Optional(Type.String()),
});

const DAY_MS = 24 * 60 * 60 * 1000;

export const loginRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        operationId: 'login', summary: 'Exchange email and password for a JWT',
        security: [],
        body: Type.Object(
          {
            email: Type.String({ minLength: 1, maxLength: 255 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            /** The authenticator code (or a recovery code) when the account has a second factor. */
            totp: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const email = request.body.email;
      try {
        const session = await deps.auth.login(email, request.body.password, request.ip, request.body.totp);
        const principal = await deps.auth.verifyToken(session.token);
        deps.audit?.record({
          tenantId: principal.tenantId,
          actor: principal.userId,
          actorName: normalizeEmail(email),
          action: 'auth.login',
          address: request.ip,
          details: { method: request.body.totp ? 'password+totp' : 'password' },
        });
        return session;
      } catch (err) {
        // A right password without the code yet is the first half of a sign-in, not a failure to record.
        if (isPlatformError(err, 'SECOND_FACTOR_REQUIRED') && !request.body.totp) throw err;
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
          200: Type.Object({
            id: Type.String(),
            email: Type.String(),
            role: Type.String(),
            tenantId: Type.String(),
            customerId: Type.Optional(Type.String()),
            // What the role resolves to (custom roles included): the dashboard shows only the pages these allow.
            permissions: Type.Array(Type.String()),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = await deps.auth.getUser(principal.userId);
      if (!user) throw new PlatformError('UNAUTHORIZED', 'user no longer exists');
      return {
        id: user.id,
        email: user.email,
        role: user.role,
        tenantId: user.tenantId,
        ...(user.customerId !== undefined ? { customerId: user.customerId } : {}),
        permissions: [...permissionsOf(request)].sort(),
      };
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
        operationId: 'createApiKey',
        summary:
          'Create an API key for the calling user (the key is shown only in this answer). role: not above yours (403), default yours; expiry: expiresInDays or expiresAt (epoch ms), default none',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 255 }),
            role: Type.Optional(RoleSchema),
            expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
            expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), key: Type.String(), expiresAt: Type.Optional(Type.Integer()), role: Type.Optional(Type.String()) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, role, expiresInDays, expiresAt } = request.body;
      if (expiresInDays !== undefined && expiresAt !== undefined) throw new PlatformError('BAD_REQUEST', 'give expiresInDays or expiresAt, not both');
      const expiry = expiresInDays !== undefined ? Date.now() + expiresInDays * DAY_MS : expiresAt;
      // Stored by its current name: the legacy 'admin'/'user' become 'tenant-admin'/'operator'.
      const created = await deps.auth.createApiKey(principalOf(request).userId, name, expiry, role === undefined ? undefined : normalizeRole(role));
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
