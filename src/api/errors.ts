/**
 * One error shape for the whole API, `{error, message[, path]}`: PlatformErrors keep their code
 * and status, validation failures become 400 with the failing field, anything else is a logged 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, PlatformError, type ErrorCode } from '../domain/errors.js';

interface ErrorBody {
  error: string;
  message: string;
  path?: string;
}

/** Status code → our code, for errors Fastify itself raises (body too large, bad JSON, …). */
function codeForStatus(status: number): ErrorCode {
  const found = (Object.keys(ERRORS) as ErrorCode[]).find((code) => ERRORS[code].http === status);
  return found ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}

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
      return reply.code(status).send({ error: codeForStatus(status), message: err.message } satisfies ErrorBody);
    }
    request.log.error({ err, reqId: request.id }, 'unhandled error');
    return reply.code(500).send({ error: 'INTERNAL', message: `internal error (request id ${request.id})` } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } satisfies ErrorBody),
  );
}
