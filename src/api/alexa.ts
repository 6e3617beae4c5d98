/**
 * POST /api/alexa/v3: the Alexa Smart Home skill endpoint (issue 18 item 8). The skill's Lambda
 * (or any HTTPS forwarder) posts each directive as Alexa sent it and relays the answer unchanged.
 * The credential is the directive's own `scope.token` (account linking: a Continuum API key or
 * sign-in token), not a header, so the route sits outside the header-authenticated scope
 * (`public` in the permission table) and the service checks the token, its role's permissions
 * and the customer scope itself. Every directive is answered 200 with an Alexa event, errors as
 * Alexa.ErrorResponse; only a body that is no directive envelope at all is a 400.
 */
import { Type } from '@sinclair/typebox';
import { AlexaService } from '../services/alexa/service.js';
import type { ApiDeps } from './deps.js';
import { accessScopeFor, tenantScope } from './access.js';
import type { Logger } from '../ports.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

/** Directives are small (Alexa's are a few hundred bytes); this bounds what an anonymous caller can send. */
const MAX_DIRECTIVE_BYTES = 64 * 1024;

function alexaService(deps: ApiDeps, commands: NonNullable<ApiDeps['commands']>, logger: Logger): AlexaService {
  return new AlexaService({
    clock: { now: () => Date.now() },
    logger,
    verifyApiKey: (key) => deps.auth.verifyApiKey(key),
    verifyToken: (token) => deps.auth.verifyToken(token),
    permissionsOf: (principal) => deps.auth.roles.permissionsOf(principal),
    // The same scope every other route enforces (api/access.ts): a customer user sees its assigned devices only.
    scopeOf: async (principal) => (await accessScopeFor(deps, principal)) ?? tenantScope(principal),
    getDevice: (id) => deps.registry.getDevice(id),
    getProfile: (id) => deps.registry.getProfile(id),
    listDevices: (query) => deps.registry.listDevices(query),
    latest: (tenantId, deviceId, keys) => deps.telemetry.latest(tenantId, deviceId, keys),
    isOnline: async (deviceId) => (await deps.status.getStatuses([deviceId]))[0]?.online ?? false,
    sendCommand: (input) => commands.send(input),
  });
}

export const alexaRoutes: ApiPlugin<{ deps: ApiDeps; commands: NonNullable<ApiDeps['commands']> }> = async (app, { deps, commands }) => {
  const alexa = alexaService(deps, commands, app.log.child({ component: 'alexa' }) as unknown as Logger);
  app.post(
    '/alexa/v3',
    {
      bodyLimit: MAX_DIRECTIVE_BYTES,
      schema: {
        tags: ['alexa'],
        operationId: 'alexaDirective',
        summary: 'Answer an Alexa Smart Home API v3 directive (Discover, ReportState, PowerController, ThermostatController); authenticated by its scope.token',
        security: [],
        body: Type.Object({ directive: Type.Object({}, { additionalProperties: true, description: 'the directive as Alexa sent it' }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ event: Type.Unknown({ description: 'Discover.Response, Response, StateReport or ErrorResponse' }), context: Type.Optional(Type.Unknown()) }),
          ...errorResponses,
        },
      },
    },
    async (request) => (await alexa.handle(request.body)) as { event: unknown; context?: unknown },
  );
};
