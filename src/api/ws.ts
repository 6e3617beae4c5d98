/**
 * Live updates over WebSocket at /api/ws. Browsers cannot set headers on a WebSocket, so the
 * route sits outside the header-authenticated scope and authenticates itself, in one of two ways:
 *   - subprotocols `continuum.v1, bearer.<JWT or API key>` (the Sec-WebSocket-Protocol header,
 *     the one header a browser lets a page set); the server answers `continuum.v1`, never the
 *     bearer entry. JWTs (base64url and dots) and API keys (ck_ + base62) are RFC 7230 tokens, as
 *     RFC 6455 §4.1 requires of subprotocol names.
 *   - a first message `{"token":"<JWT>"}` (or `{"apiKey":"…"}`) within AUTH_TIMEOUT_MS.
 * A token in the URL (`?token=`) is refused: URLs end up in access logs, proxies and history.
 *
 * Client → server, each with an optional "id" echoed in the answer:
 *   {"id":1,"subscribe":{"type":"telemetry|alarms|status|commands","deviceId"?,"profileId"?}}
 *     → {"id":1,"result":{"subscriptionId":"1"}}  or  {"id":1,"error":{"code","message"}}
 *   {"id":2,"unsubscribe":"1"} → {"id":2,"result":{}}
 * Server → client: {"type","subscriptionId","deviceId","data","ts"} for every matching event.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { WebSocket } from 'ws';
import { asPlatformError, PlatformError } from '../domain/errors.js';
import { API_KEY_PREFIX, type AuthService, type Principal } from '../services/auth.js';
import { LIVE_TOPICS, type LiveMessage } from '../services/live.js';
import type { ApiDeps } from './deps.js';
import { accessScopeFor, tenantScope } from './access.js';
import type { AccessScope } from '../domain/customers.js';
import type { ApiPlugin } from './type-provider.js';

const AUTH_TIMEOUT_MS = 10_000;
/** How often an open live connection re-checks its credential (logout, deletion, expiry end it). */
const REVALIDATE_MS = 5_000;
const MAX_SUBSCRIPTIONS = 64;
const MAX_MESSAGE_BYTES = 16 * 1024;
/** A client this far behind is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Close codes in the private range (RFC 6455 §7.4.2), HTTP-like. */
const CLOSE_BAD_REQUEST = 4400;
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TOO_SLOW = 4408;

/** The subprotocol the server answers; a client lists it first, then `bearer.<credential>`. */
export const LIVE_SUBPROTOCOL = 'continuum.v1';
const BEARER_PREFIX = 'bearer.';
const MAX_CREDENTIAL_LENGTH = 4096;
/** Close reasons are at most 123 bytes (RFC 6455 §5.5: control frame payload ≤ 125, 2 for the code). */
const URL_TOKEN_REFUSED = 'token in the URL is refused: send subprotocol bearer.<token> or a first message';

/**
 * Chooses the subprotocol to answer for every WebSocket upgrade on the server (/api/ws, /mqtt):
 * the first one offered that is not a credential, so a `bearer.` entry is never echoed back
 * (RFC 6455 §4.2.2: the server picks one of the client's values, or none).
 */
export function selectSubprotocol(protocols: Set<string>): string | false {
  for (const protocol of protocols) if (!protocol.startsWith(BEARER_PREFIX)) return protocol;
  return false;
}

/** The credential in a `bearer.<credential>` subprotocol, if one was offered. */
export function bearerSubprotocol(header: string | string[] | undefined): string | undefined {
  const values = (Array.isArray(header) ? header.join(',') : header ?? '').split(',');
  for (const value of values) {
    const protocol = value.trim();
    if (protocol.startsWith(BEARER_PREFIX) && protocol.length > BEARER_PREFIX.length) return protocol.slice(BEARER_PREFIX.length);
  }
  return undefined;
}

const RequestId = Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 64 })]));
const ClientMessage = Type.Union([
  Type.Object({ id: RequestId, token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }),
  Type.Object({ id: RequestId, apiKey: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false }),
  Type.Object(
    {
      id: RequestId,
      subscribe: Type.Object(
        {
          type: Type.Union(LIVE_TOPICS.map((t) => Type.Literal(t))),
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          profileId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object({ id: RequestId, unsubscribe: Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]) }, { additionalProperties: false }),
]);
type ClientMessage = Static<typeof ClientMessage>;

/** One client connection: its principal, its subscriptions, and the order its messages are handled in. */
class LiveConnection {
  private principal: Principal | undefined;
  private readonly subscriptions = new Map<string, () => void>();
  private nextSubscription = 1;
  /** Messages are handled one after another (authentication and subscribing are async). */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly authTimer: NodeJS.Timeout;
  /** Re-runs the check that admitted this connection: a revoked session must not stay subscribed. */
  private recheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly auth: AuthService,
    private readonly live: NonNullable<ApiDeps['live']>,
    /** What the principal may see (a customer user: its customers' devices only). */
    private readonly scopeOf: (principal: Principal) => Promise<AccessScope>,
    credential: string | undefined,
  ) {
    this.authTimer = setTimeout(() => {
      if (!this.principal) this.socket.close(CLOSE_UNAUTHORIZED, 'authentication required');
    }, AUTH_TIMEOUT_MS);
    socket.on('message', (data, isBinary) => {
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
      if (isBinary || size > MAX_MESSAGE_BYTES) {
        this.send({ error: { code: 'BAD_REQUEST', message: `messages are JSON text of at most ${MAX_MESSAGE_BYTES} bytes` } });
        return;
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
      this.enqueue(() => this.handle(text));
    });
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.cleanup());
    if (credential !== undefined) this.enqueue(() => this.authenticate(undefined, () => this.verifyCredential(credential)));
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch(() => undefined);
  }

  private async handle(text: string): Promise<void> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.send({ error: { code: 'BAD_REQUEST', message: 'not JSON' } });
    }
    if (!Value.Check(ClientMessage, message)) {
      const first = Value.Errors(ClientMessage, message).First();
      return this.send({ ...idOf(message), error: { code: 'BAD_REQUEST', message: first ? `${first.path || '/'}: ${first.message}` : 'invalid message' } });
    }
    if ('token' in message) return this.authenticate(message.id, () => this.auth.verifyToken(message.token));
    if ('apiKey' in message) return this.authenticate(message.id, () => this.auth.verifyApiKey(message.apiKey));
    if (!this.principal) return this.fail(message.id, new PlatformError('UNAUTHORIZED', 'authenticate first'));
    if ('subscribe' in message) return this.subscribe(message, this.principal);
    const key = String(message.unsubscribe);
    const unsubscribe = this.subscriptions.get(key);
    if (!unsubscribe) return this.fail(message.id, new PlatformError('NOT_FOUND', `subscription ${key}`));
    unsubscribe();
    this.subscriptions.delete(key);
    this.send({ id: message.id, result: {} });
  }

  /** A subprotocol credential: an API key by its prefix, otherwise a JWT. */
  private verifyCredential(credential: string): Promise<Principal> {
    if (credential.length > MAX_CREDENTIAL_LENGTH) return Promise.reject(new PlatformError('UNAUTHORIZED', 'credential too long'));
    return credential.startsWith(API_KEY_PREFIX) ? this.auth.verifyApiKey(credential) : this.auth.verifyToken(credential);
  }

  private async authenticate(id: ClientMessage['id'], verify: () => Promise<Principal>): Promise<void> {
    try {
      const principal = await verify();
      if (this.principal && this.principal.tenantId !== principal.tenantId) throw new PlatformError('FORBIDDEN', 'cannot switch tenants');
      if (this.principal && this.principal.customerId !== principal.customerId) throw new PlatformError('FORBIDDEN', 'cannot switch customers');
      this.principal = principal;
      clearTimeout(this.authTimer);
      this.watchRevocation(verify);
      this.send({ id, result: { authenticated: true } });
    } catch (err) {
      this.fail(id, err);
      if (!this.principal) this.socket.close(CLOSE_UNAUTHORIZED, 'authentication failed');
    }
  }

  /**
   * A WebSocket outlives the request that opened it: logout, a deleted or disabled user, an
   * expired or deleted API key must end it too, within REVALIDATE_MS.
   */
  private watchRevocation(verify: () => Promise<Principal>): void {
    if (this.recheck) clearInterval(this.recheck);
    this.recheck = setInterval(() => {
      verify().then(
        (principal) => {
          if (this.principal) this.principal = { ...this.principal, role: principal.role };
        },
        () => {
          this.socket.close(CLOSE_UNAUTHORIZED, 'session revoked');
          this.cleanup();
        },
      );
    }, REVALIDATE_MS);
    this.recheck.unref();
  }

  private async subscribe(message: Extract<ClientMessage, { subscribe: unknown }>, principal: Principal): Promise<void> {
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS) return this.fail(message.id, new PlatformError('QUOTA_EXCEEDED', `at most ${MAX_SUBSCRIPTIONS} subscriptions`));
    const subscriptionId = String(this.nextSubscription++);
    try {
      const unsubscribe = await this.live.subscribe(await this.scopeOf(principal), message.subscribe, (m) => this.push(subscriptionId, m));
      if (this.closed) return unsubscribe();
      this.subscriptions.set(subscriptionId, unsubscribe);
      this.send({ id: message.id, result: { subscriptionId } });
    } catch (err) {
      this.fail(message.id, err);
    }
  }

  private push(subscriptionId: string, m: LiveMessage): void {
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(CLOSE_TOO_SLOW, 'client too slow');
      this.cleanup();
      return;
    }
    this.send({ type: m.type, subscriptionId, deviceId: m.deviceId, data: m.data, ts: m.ts });
  }

  private fail(id: ClientMessage['id'], err: unknown): void {
    const e = asPlatformError(err);
    this.send({ ...(id !== undefined ? { id } : {}), error: { code: e.code, message: e.message } });
  }

  private send(body: object): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(body));
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.authTimer);
    if (this.recheck) clearInterval(this.recheck);
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
  }
}

function idOf(message: unknown): { id?: number | string } {
  const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;
  return typeof id === 'number' || typeof id === 'string' ? { id } : {};
}

export const liveRoutes: ApiPlugin<{ deps: ApiDeps; live: NonNullable<ApiDeps['live']> }> = async (app, { deps, live }) => {
  app.get(
    '/ws',
    {
      websocket: true,
      schema: {
        tags: ['live'],
        operationId: 'openLiveUpdates', summary: 'WebSocket: live telemetry, alarms, device status and command states',
        description: `Authenticate with subprotocols ["${LIVE_SUBPROTOCOL}", "bearer.<JWT or API key>"] or a first message {"token"} / {"apiKey"}. A token in the URL is refused (close ${CLOSE_BAD_REQUEST}).`,
        querystring: Type.Object({ token: Type.Optional(Type.String({ description: 'refused: tokens in URLs end up in logs' })) }),
      },
    },
    (socket, request) => {
      if (request.query.token !== undefined) {
        request.log.warn({ remoteAddress: request.ip }, 'live WebSocket refused: token in the URL');
        socket.close(CLOSE_BAD_REQUEST, URL_TOKEN_REFUSED);
        return;
      }
      const scopeOf = async (p: Principal): Promise<AccessScope> => (await accessScopeFor(deps, p)) ?? tenantScope(p);
      new LiveConnection(socket, deps.auth, live, scopeOf, bearerSubprotocol(request.headers['sec-websocket-protocol']));
    },
  );
};
