/** POST /api/auth/login (public), GET /api/auth/me, POST /api/auth/api-keys. */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
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
    async (request) => deps.auth.login(request.body.email, request.body.password),
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
};
