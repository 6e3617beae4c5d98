/**
 * One error shape for the whole API, `{error, message[, path]}`: PlatformErrors keep their code
 * and status, validation failures become 400 with the failing field, anything else is a logged 500.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, PlatformError, codeForHttpStatus, type ErrorCode } from '../domain/errors.js';

interface ErrorBody {
  error: string;
  message: string;
  path?: string;
}

/** Status code → our code, for errors Fastify itself raises (body too large, bad JSON, …). */

function validationBody(err: FastifyError): ErrorBody {
  const first = err.validation?.[0];
  const where = err.validationContext ?? 'request';
  const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const path = [where, field, missing].filter((p) => p).join('.');
  return { error: 'BAD_REQUEST', message: `${path}: ${first?.message ?? err.message}`, path };
}

export function sendError(reply: FastifyReply, err: PlatformError): FastifyReply {
  // RFC 9110 §10.2.3: delay-seconds, with 429 (RFC 6585 §4) and 503.
  if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
  return reply.code(err.spec.http).send({ error: err.code, message: err.message } satisfies ErrorBody);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof PlatformError) {
      if (err.code === 'INTERNAL') request.log.error({ err, reqId: request.id }, 'internal error');
      return sendError(reply, err);
    }
    if (err.validation) return reply.code(400).send(validationBody(err));
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: codeForHttpStatus(status), message: err.message } satisfies ErrorBody);
    }
    request.log.error({ err, reqId: request.id }, 'unhandled error');
    return reply.code(500).send({ error: 'INTERNAL', message: `internal error (request id ${request.id})` } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } satisfies ErrorBody),
  );
}

/** How long a refused connection may take to read our answer before it is cut. */
const CLIENT_ERROR_GRACE_MS = 1000;

/**
 * Answers a request Node's HTTP parser could not read (unknown method, malformed request line or
 * header, headers over the limit, request timeout), where Fastify's own answer had neither our
 * error shape nor `Connection: close`. The connection cannot carry another request after a
 * parse error, and a keep-alive client that is not told so sends its next request into a closed
 * socket (RFC 9112 §9.6: a server that closes says "close"). Found by the REST fuzzer.
 */
export function clientErrorHandler(this: { log: FastifyBaseLogger }, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
  const spec = ERRORS[code];
  // The parser's code, never the bytes: they are the client's and may be anything.
  this.log.info({ remote: socket.remoteAddress, parserError: err.code }, `unreadable HTTP request refused with ${spec.http}`);
  if (socket.writable) {
    const body = JSON.stringify({ error: code, message: `${spec.message} (${err.code ?? 'parse error'})` } satisfies ErrorBody);
    socket.end(`HTTP/1.1 ${spec.http} ${STATUS_CODES[spec.http] ?? ''}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  setTimeout(() => socket.destroy(), CLIENT_ERROR_GRACE_MS).unref();
}

/** Fixed texts: Fastify's own messages quote the client's URL back. */
const FRAMEWORK_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'the URL is not valid percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is over the length limit',
};

/**
 * Errors Fastify raises before a route runs (a URL that is not valid percent-encoding, a path
 * parameter over `maxParamLength`, a failed route constraint) skip setErrorHandler; Fastify's
 * default answer had its own shape (`{"error":"Bad Request","code":"FST_ERR_BAD_URL",…}`).
 * Found by the REST fuzzer: answered as BAD_REQUEST in the API's one shape.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.debug({ code: error.code }, 'request refused before routing');
  void reply.code(400).send({ error: 'BAD_REQUEST', message: `${ERRORS.BAD_REQUEST.message}: ${FRAMEWORK_MESSAGES[error.code] ?? 'the request cannot be routed'}` } satisfies ErrorBody);
}
