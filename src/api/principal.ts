/** Who is calling: set by the authentication hook on every protected route. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PlatformError } from '../domain/errors.js';
import type { AuthService, Principal } from '../services/auth.js';

const principals = new WeakMap<FastifyRequest, Principal>();

export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new PlatformError('UNAUTHORIZED', 'not authenticated');
  return principal;
}

/** The caller when authentication succeeded, else undefined (hooks that also see refused requests). */
export function principalIfAny(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Requires `Authorization: Bearer <jwt>` or `X-API-Key` on every route of `scope`. */
export function requireAuth(scope: FastifyInstance, auth: AuthService): void {
  scope.addHook('onRequest', async (request) => {
    const principal = await auth.authenticateRequest({
      authorization: header(request, 'authorization'),
      apiKey: header(request, 'x-api-key'),
    });
    principals.set(request, principal);
  });
}
