/**
 * Timeouts and a connection cap for the HTTP and HTTPS listeners, so that a client that dribbles
 * its headers or body, or opens connections and sends nothing, cannot hold sockets for ever.
 *
 * How each one meets long polls and WebSockets:
 * - requestTimeout and headersTimeout (node:http) run until the request has been *received*: a
 *   long poll is a GET received at once, so its wait is not counted; an upgraded WebSocket leaves
 *   the HTTP parser, so neither applies to it.
 * - the socket idle timeout (Fastify's connectionTimeout) does hit a quiet long poll: the device
 *   routes cap a poll's wait below it (src/adapters/transport/http). `ws` turns it off on upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'node:net';

export { capConnections } from '../adapters/transport/connection-cap.js';

export interface HttpLimits {
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
}

/** Fastify server options for the limits. */
export function fastifyTimeouts(limits: HttpLimits): { requestTimeout: number; keepAliveTimeout: number; connectionTimeout: number } {
  return { requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs, connectionTimeout: limits.idleTimeoutMs };
}

/**
 * Options for node's http/https createServer. node checks expired requests every
 * connectionsCheckingInterval (30 s by default); a shorter check keeps a timeout close to its
 * value. headersTimeout may not exceed requestTimeout (node refuses the server otherwise).
 * For HTTPS the same headers timeout also bounds the TLS handshake.
 */
export function nodeServerTimeouts(limits: HttpLimits): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number; handshakeTimeout: number } {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(5000, Math.floor(headersTimeout / 4))),
    handshakeTimeout: headersTimeout,
  };
}

const FIRST_REQUEST_TIMER = Symbol('first request timer');
type WaitingSocket = Socket & { [FIRST_REQUEST_TIMER]?: NodeJS.Timeout | undefined };

function firstRequestArrived(req: IncomingMessage): void {
  const socket = req.socket as WaitingSocket;
  const timer = socket[FIRST_REQUEST_TIMER];
  if (timer === undefined) return;
  clearTimeout(timer);
  socket[FIRST_REQUEST_TIMER] = undefined;
}

/**
 * node's headersTimeout starts with the first byte of a request: a client that connects and
 * sends nothing is only bounded by the idle timeout (minutes, for long polls). Such a connection
 * gets `timeoutMs` to complete its first request's headers; later ones are bounded by
 * keepAliveTimeout and headersTimeout. For HTTPS the clock starts after the handshake (which
 * has its own timeout).
 */
export function closeSilentConnections(server: Server, tls: boolean, timeoutMs: number): void {
  server.on(tls ? 'secureConnection' : 'connection', (socket: WaitingSocket) => {
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    timer.unref();
    socket[FIRST_REQUEST_TIMER] = timer;
    socket.once('close', () => clearTimeout(timer));
  });
  server.on('request', firstRequestArrived);
  server.on('upgrade', firstRequestArrived);
}
