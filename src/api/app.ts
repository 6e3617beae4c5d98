/**
 * The management REST API on Fastify 5. Every route has TypeBox schemas (validated on the way
 * in, serialized on the way out, listed at /api/openapi.json and browsable at /api/docs).
 * Routes under /api need a user (JWT or API key) except login and the docs; the device API
 * under /api/v1 is registered by the HTTP transport on the returned instance, outside that scope.
 * The dashboard and the management API live in encapsulated contexts that send security headers
 * (security-headers.ts); the device API, registered on the root instance, runs none of those hooks.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { alarmRoutes } from './alarms.js';
import { alexaRoutes } from './alexa.js';
import { auditChanges } from './audit-hook.js';
import { auditRoutes } from './audit.js';
import { attributeRoutes } from './attributes.js';
import { endpointRoutes } from './endpoints.js';
import { clusterRoutes } from './cluster.js';
import { edgeConfigRoutes } from './edge-config.js';
import { authRoutes, loginRoutes } from './auth-routes.js';
import { oidcRoutes } from './oidc-routes.js';
import { totpRoutes } from './totp-routes.js';
import { commandRoutes } from './commands.js';
import { credentialRoutes } from './credentials.js';
import { dashboardRoutes } from './dashboards.js';
import { integrationRoutes } from './integrations.js';
import { integrationWebhookRoutes } from './integrations-webhook.js';
import { grantRoutes } from './grants.js';
import { quotaRoutes } from './quotas.js';
import type { ApiDeps } from './deps.js';
import { deviceRoutes } from './devices.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandlers } from './errors.js';
import { healthRoutes } from './health.js';
import { deviceFirmwareRoutes, otaRoutes } from './ota.js';
import { otaDeploymentRoutes } from './ota-deployments.js';
import { otaKeyRoutes } from './ota-keys.js';
import { enforceRoles, requireRouteRules } from './roles.js';
import { requireAuth } from './principal.js';
import { profileRoutes } from './profiles.js';
import { promRoutes } from './prom.js';
import { profileDecoderRoutes } from './profile-decoder.js';
import { rpcRoutes } from './rpc.js';
import { ruleRoutes } from './rules.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { enforceScope } from './access.js';
import { customerRoutes } from './customers.js';
import { groupRoutes } from './groups.js';
import { docsSecurityHeaders, registerSecurityHeaders, securityHeaders } from './security-headers.js';
import { telemetryRoutes } from './telemetry.js';
import { forecastRoutes } from './forecast.js';
import { twinRoutes } from './twin.js';
import { userRoutes } from './users.js';
import { tenantRoutes } from './tenants.js';
import { customRoleRoutes } from './custom-roles.js';
import { webRoutes } from './web.js';
import { liveRoutes, selectSubprotocol } from './ws.js';
import { capConnections, closeSilentConnections, fastifyTimeouts, nodeServerTimeouts, type HttpLimits } from './server-limits.js';

export interface HttpAppOptions {
  /** A pino logger instance, or true/false for Fastify's own. */
  readonly logger: FastifyBaseLogger | boolean;
  /** Default request body limit (the CSV import route allows more). */
  readonly maxBodyBytes: number;
  /** Shown in the OpenAPI document. */
  readonly version?: string;
  /** Serve HTTPS instead of HTTP. */
  readonly https?: { readonly key: Buffer; readonly cert: Buffer };
  /** The built dashboard served at `/` (default web/dist of the checkout); false serves none. */
  readonly webRoot?: string | false;
  /** Dashboard settings served at GET /api/ui-config (config section `web`). */
  readonly ui?: { readonly tileUrl?: string; readonly tileAttribution?: string };
  /** Request, header and idle timeouts and the connection cap (config section `http`); node's defaults without. */
  readonly limits?: HttpLimits;
  /** Counts a connection closed at once because the listener was at its cap. */
  readonly onConnectionRefused?: () => void;
}

const MAX_REQUEST_ID_LENGTH = 128;
const VERBOSE_LEVELS: ReadonlySet<string> = new Set(['debug', 'trace']);

export async function buildHttpApp(deps: ApiDeps, opts: HttpAppOptions): Promise<FastifyInstance> {
  const serverTimeouts = opts.limits ? nodeServerTimeouts(opts.limits) : {};
  const options: FastifyServerOptions & { https?: object; http?: object } = {
    ...(opts.https ? { https: { key: opts.https.key, cert: opts.https.cert, ...serverTimeouts } } : { http: serverTimeouts }),
    ...(opts.limits ? fastifyTimeouts(opts.limits) : {}),
    bodyLimit: opts.maxBodyBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Device HTTP traffic shares this server: per-request lines are logged at debug below, not info.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown body fields are rejected (additionalProperties: false) instead of silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    // Requests refused before routing or before parsing get the API's error shape too.
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  };
  const app = (
    typeof opts.logger === 'boolean' ? Fastify({ ...options, logger: opts.logger }) : Fastify({ ...options, loggerInstance: opts.logger })
  ) as FastifyInstance;

  if (opts.limits) {
    capConnections(app.server, opts.limits.maxConnections, app.log, { listener: opts.https ? 'https' : 'http' }, opts.onConnectionRefused);
    closeSilentConnections(app.server, opts.https !== undefined, Math.min(opts.limits.headersTimeoutMs, opts.limits.requestTimeoutMs));
  }
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  installErrorHandlers(app);
  // Both hooks run for every device HTTP request too: callback style (no promise per hook), and
  // the debug line's fields are built only when debug logging is on.
  app.addHook('onRequest', (request, reply, done) => {
    if (String(request.id).length > MAX_REQUEST_ID_LENGTH) request.id = randomUUID();
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.httpRequest?.(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (VERBOSE_LEVELS.has(request.log.level)) {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Continuum management API',
        description: 'Devices, profiles, credentials, telemetry, attributes and RPC. Authenticate with POST /api/auth/login.',
        version: opts.version ?? '0.1.0',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Every WebSocket upgrade goes through Fastify's router: /api/ws here, /mqtt added by the platform.
  // A `bearer.<token>` subprotocol authenticates /api/ws; it is never answered back (ws.ts).
  await app.register(websocket, { options: { handleProtocols: selectSubprotocol } });
  const headers = { tileUrl: opts.ui?.tileUrl, tls: Boolean(opts.https) };

  // Swagger UI and the OpenAPI document, with a CSP that fits Swagger UI (its own context).
  await app.register(async (docs) => {
    await registerSecurityHeaders(docs, docsSecurityHeaders(headers));
    await docs.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { persistAuthorization: true, validatorUrl: null } });
    docs.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });

  // The dashboard and the management API, with the strict CSP.
  await app.register(async (site) => {
    await registerSecurityHeaders(site, securityHeaders(headers));
    await site.register(healthRoutes, { deps });
    // The dashboard at / (web/dist), with client-side routes answered by index.html; /api keeps its JSON 404.
    if (opts.webRoot !== false) await site.register(webRoutes, { ...(opts.webRoot ? { root: opts.webRoot } : {}), ...(opts.ui ? { ui: opts.ui } : {}) });
    await site.register(managementApi(deps), { prefix: '/api' });
  });
  return app;
}

/** The management API under /api: login and live updates, then everything that needs a user. */
function managementApi(deps: ApiDeps) {
  return async (api: FastifyInstance): Promise<void> => {
    // First: a route registered below without an entry in the permission table stops startup.
    requireRouteRules(api);
    await api.register(loginRoutes, { deps });
    await api.register(oidcRoutes, { deps, oidc: deps.oidc });
    // Authenticates itself (subprotocol or first message): browsers cannot send headers on a WebSocket.
    if (deps.live) await api.register(liveRoutes, { deps, live: deps.live });
    // Network servers' webhooks: authenticated by the integration's own secret, not a user.
    if (deps.integrations) await api.register(integrationWebhookRoutes, { integrations: deps.integrations });
    // Authenticates itself: the credential is the directive's scope.token (account linking).
    if (deps.commands) await api.register(alexaRoutes, { deps, commands: deps.commands });
    await api.register(async (secured) => {
      requireAuth(secured, deps.auth);
      enforceRoles(secured, (principal) => deps.auth.roles.permissionsOf(principal));
      enforceScope(secured, deps);
      if (deps.audit) auditChanges(secured, deps.audit);
      await secured.register(authRoutes, { deps });
      await secured.register(totpRoutes, { deps });
      await secured.register(userRoutes, { deps });
      await secured.register(customRoleRoutes, { roles: deps.auth.roles });
      if (deps.tenants) await secured.register(tenantRoutes, { tenants: deps.tenants });
      await secured.register(deviceRoutes, { deps });
      await secured.register(credentialRoutes, { deps });
      await secured.register(profileRoutes, { deps });
      await secured.register(profileDecoderRoutes, { deps });
      await secured.register(dashboardRoutes, { deps });
      await secured.register(telemetryRoutes, { deps });
      await secured.register(forecastRoutes, { deps });
      await secured.register(promRoutes, { deps });
      await secured.register(attributeRoutes, { deps });
      await secured.register(edgeConfigRoutes, { deps });
      if (deps.endpoints) await secured.register(endpointRoutes, { endpoints: deps.endpoints });
      if (deps.cluster) await secured.register(clusterRoutes, { cluster: deps.cluster.view, nodeId: deps.cluster.nodeId });
      if (deps.rpc) await secured.register(rpcRoutes, { deps, rpc: deps.rpc });
      if (deps.rules) await secured.register(ruleRoutes, { rules: deps.rules });
      if (deps.alarms) await secured.register(alarmRoutes, { deps, alarms: deps.alarms });
      if (deps.commands) await secured.register(commandRoutes, { deps, commands: deps.commands });
      if (deps.twin) await secured.register(twinRoutes, { deps, twin: deps.twin });
      if (deps.audit) await secured.register(auditRoutes, { audit: deps.audit });
      if (deps.integrations) await secured.register(integrationRoutes, { integrations: deps.integrations });
      if (deps.mqttGrants) await secured.register(grantRoutes, { grants: deps.mqttGrants });
      if (deps.quotas) await secured.register(quotaRoutes, { quotas: deps.quotas });
      if (deps.customers) await secured.register(customerRoutes, { deps, customers: deps.customers, ...(deps.groups ? { groups: deps.groups } : {}) });
      if (deps.groups) await secured.register(groupRoutes, { groups: deps.groups });
      if (deps.ota) {
        await secured.register(otaRoutes, { deps, ota: deps.ota });
        await secured.register(deviceFirmwareRoutes, { ota: deps.ota });
        if (deps.ota.rollouts) await secured.register(otaDeploymentRoutes, { rollouts: deps.ota.rollouts });
        if (deps.ota.signing) await secured.register(otaKeyRoutes, { signing: deps.ota.signing });
      }
    });
  };
}
