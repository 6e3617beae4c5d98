/** POST /api/auth/login (public), GET /api/auth/me, POST /api/auth/api-keys. */
import { Type } from '@sinclair/typebox';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { normalizeEmail } from '../services/auth.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['auth'];

export const loginRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        summary: 'Exchange email and password for a JWT',
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
        const session = await deps.auth.login(email, request.body.password);
        const principal = await deps.auth.verifyToken(session.token);
        deps.audit?.record({ tenantId: principal.tenantId, actor: principal.userId, actorName: normalizeEmail(email), action: 'auth.login', address: request.ip });
        return session;
      } catch (err) {
        // The email is kept as typed (bounded by the schema): it is what an investigation searches for.
        deps.audit?.record({ tenantId: DEFAULT_TENANT_ID, actor: 'anonymous', actorName: normalizeEmail(email), action: 'auth.login_failed', outcome: 'failure', address: request.ip });
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
        summary: 'The calling user',
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
    '/auth/api-keys',
    {
      schema: {
        tags,
        summary: 'Create an API key for the calling user (the key is shown only in this answer)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), key: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await deps.auth.createApiKey(principalOf(request).userId, request.body.name);
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: "Create a user in the caller's tenant (admin only): role admin, or user (an operator: reads, commands, alarms, set points)",
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 255 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            role: Type.Union([Type.Literal('admin'), Type.Literal('user')], { default: 'user' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), email: Type.String(), role: Type.String(), tenantId: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const user = await deps.auth.createUser({ email: b.email, password: b.password, role: b.role, tenantId: principalOf(request).tenantId });
      request.log.info({ email: user.email, role: user.role }, 'user created');
      return reply.code(201).send({ id: user.id, email: user.email, role: user.role, tenantId: user.tenantId });
    },
  );
};
