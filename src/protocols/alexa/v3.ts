/**
 * Alexa Smart Home API, payload version 3: the directive envelope Alexa sends to a skill and the
 * events a skill answers (developer.amazon.com/docs/device-apis: Alexa.Discovery, Alexa.Response,
 * Alexa.ErrorResponse, ReportState/StateReport). Wire shapes only; what a Continuum device offers
 * is decided in services/alexa.ts.
 */
import { randomUUID } from 'node:crypto';

export interface AlexaHeader {
  readonly namespace: string;
  readonly name: string;
  readonly payloadVersion: string;
  readonly messageId: string;
  readonly correlationToken?: string;
}

export interface AlexaDirective {
  readonly header: AlexaHeader;
  /** The account-linking token: payload.scope for Discover, endpoint.scope for the others. */
  readonly token: string | undefined;
  readonly endpointId?: string;
  readonly cookie?: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
}

export type AlexaErrorType =
  | 'INVALID_DIRECTIVE'
  | 'INVALID_AUTHORIZATION_CREDENTIAL'
  | 'NO_SUCH_ENDPOINT'
  | 'ENDPOINT_UNREACHABLE'
  | 'INVALID_VALUE'
  | 'TEMPERATURE_VALUE_OUT_OF_RANGE'
  | 'INTERNAL_ERROR';

/** A directive that cannot be handled: answered as Alexa.ErrorResponse of this type. */
export class AlexaError extends Error {
  constructor(
    readonly type: AlexaErrorType,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** The directive's header when it was readable (the answer echoes its correlation token). */
    readonly header?: AlexaHeader,
  ) {
    super(message);
  }
}

export interface AlexaProperty {
  readonly namespace: string;
  readonly name: string;
  readonly value: unknown;
  readonly timeOfSample: string;
  readonly uncertaintyInMilliseconds: number;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
}

/** Reads `{directive: {header, endpoint?, payload}}`; anything else is INVALID_DIRECTIVE. */
export function parseDirective(body: unknown): AlexaDirective {
  const directive = record(record(body)?.directive);
  const h = record(directive?.header);
  const namespace = text(h?.namespace, 128);
  const name = text(h?.name, 128);
  const messageId = text(h?.messageId, 256);
  if (!directive || !h || !namespace || !name || !messageId) throw new AlexaError('INVALID_DIRECTIVE', 'not an Alexa directive: directive.header needs namespace, name and messageId');
  const payloadVersion = text(h.payloadVersion, 16) ?? '';
  const correlationToken = text(h.correlationToken, 8192);
  const header: AlexaHeader = { namespace, name, payloadVersion, messageId, ...(correlationToken ? { correlationToken } : {}) };
  if (payloadVersion !== '3') throw new AlexaError('INVALID_DIRECTIVE', `payloadVersion ${payloadVersion || '(none)'} is not supported: 3 is`, {}, header);
  const payload = record(directive.payload) ?? {};
  const endpoint = record(directive.endpoint);
  const scope = record(endpoint?.scope) ?? record(payload.scope);
  const token = scope?.type === 'BearerToken' ? text(scope.token, 4096) : undefined;
  const endpointId = text(endpoint?.endpointId, 256);
  const cookie = record(endpoint?.cookie);
  return { header, token, payload, ...(endpointId ? { endpointId } : {}), ...(cookie ? { cookie } : {}) };
}

function eventHeader(namespace: string, name: string, request?: AlexaHeader): AlexaHeader {
  return { namespace, name, payloadVersion: '3', messageId: randomUUID(), ...(request?.correlationToken ? { correlationToken: request.correlationToken } : {}) };
}

export function discoverResponse(request: AlexaHeader, endpoints: readonly Json[]): Json {
  return { event: { header: eventHeader('Alexa.Discovery', 'Discover.Response', request), payload: { endpoints } } };
}

/** Alexa.Response (a change was made) or StateReport (ReportState), with the endpoint's properties as context. */
export function stateEvent(name: 'Response' | 'StateReport', request: AlexaHeader, endpointId: string, properties: readonly AlexaProperty[]): Json {
  return { event: { header: eventHeader('Alexa', name, request), endpoint: { endpointId }, payload: {} }, context: { properties } };
}

export function errorResponse(error: AlexaError, request?: AlexaHeader, endpointId?: string): Json {
  return {
    event: {
      header: eventHeader('Alexa', 'ErrorResponse', request),
      ...(endpointId ? { endpoint: { endpointId } } : {}),
      payload: { type: error.type, message: error.message, ...error.extra },
    },
  };
}

/** A capability entry of a discovered endpoint. */
export function capability(iface: string, supported: readonly string[] = [], extra: Json = {}): Json {
  return {
    type: 'AlexaInterface',
    interface: iface,
    version: '3',
    ...(supported.length > 0 ? { properties: { supported: supported.map((name) => ({ name })), proactivelyReported: false, retrievable: true } } : {}),
    ...extra,
  };
}

export const TEMPERATURE_SCALES = ['CELSIUS', 'FAHRENHEIT', 'KELVIN'] as const;

/** A temperature in Celsius from Alexa's {value, scale}; undefined when it is not one. */
export function celsiusOf(temperature: unknown): number | undefined {
  const t = record(temperature);
  if (!t || typeof t.value !== 'number' || !Number.isFinite(t.value)) return undefined;
  if (t.scale === 'CELSIUS') return t.value;
  if (t.scale === 'FAHRENHEIT') return Math.round(((t.value - 32) * 5) / 9 * 100) / 100;
  if (t.scale === 'KELVIN') return Math.round((t.value - 273.15) * 100) / 100;
  return undefined;
}
