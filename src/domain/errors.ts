/**
 * The one error catalogue. Every failure the platform reports has a stable code here, and each
 * code maps to the answer every protocol gives for it, so adapters never invent status codes.
 *
 * MQTT codes are MQTT 5.0 reason codes (OASIS MQTT 5.0 §2.4); for MQTT 3.1.1 the CONNACK
 * return code is derived in the MQTT adapter (3.1.1 §3.2.2.3). CoAP codes are RFC 7252 §5.9
 * response codes written class.detail.
 */
export interface ErrorSpec {
  readonly http: number;
  readonly coap: string;
  readonly mqtt: number;
  readonly message: string;
}

export const ERRORS = {
  BAD_REQUEST: { http: 400, coap: '4.00', mqtt: 0x80, message: 'bad request' },
  INVALID_RULE: { http: 400, coap: '4.00', mqtt: 0x80, message: 'invalid rule' },
  MALFORMED_PAYLOAD: { http: 400, coap: '4.00', mqtt: 0x99, message: 'payload is not valid for the codec' },
  INVALID_TELEMETRY: { http: 400, coap: '4.00', mqtt: 0x99, message: 'telemetry rejected' },
  KEY_TOO_LONG: { http: 400, coap: '4.00', mqtt: 0x99, message: 'key longer than 255 characters' },
  NON_FINITE_NUMBER: { http: 400, coap: '4.00', mqtt: 0x99, message: 'number is not finite' },
  NESTING_TOO_DEEP: { http: 400, coap: '4.00', mqtt: 0x99, message: 'JSON nested deeper than the limit' },
  INVALID_TEXT: { http: 400, coap: '4.00', mqtt: 0x99, message: 'text is not valid UTF-8' },
  VALUE_TOO_LONG: { http: 413, coap: '4.13', mqtt: 0x97, message: 'string value over the configured limit' },
  TOO_MANY_VALUES: { http: 413, coap: '4.13', mqtt: 0x97, message: 'more values in one message than the configured limit' },
  TIMESTAMP_IN_FUTURE: { http: 400, coap: '4.00', mqtt: 0x99, message: 'timestamp more than a day in the future' },
  PAYLOAD_TOO_LARGE: { http: 413, coap: '4.13', mqtt: 0x95, message: 'payload over the configured limit' },
  UNAUTHORIZED: { http: 401, coap: '4.01', mqtt: 0x87, message: 'not authorized' },
  /** The password was right but the account has a second factor: ask for the TOTP (or a recovery) code and send it as `totp`. */
  SECOND_FACTOR_REQUIRED: { http: 401, coap: '4.01', mqtt: 0x87, message: 'a second factor (TOTP code) is needed' },
  BAD_CREDENTIALS: { http: 401, coap: '4.01', mqtt: 0x86, message: 'bad user name or password' },
  CERTIFICATE_REFUSED: { http: 401, coap: '4.01', mqtt: 0x87, message: 'client certificate expired, revoked or not issued by the device CA' },
  FORBIDDEN: { http: 403, coap: '4.03', mqtt: 0x87, message: 'forbidden' },
  OUTBOUND_REFUSED: { http: 403, coap: '4.03', mqtt: 0x87, message: 'outbound connection refused by policy' },
  TOPIC_NOT_ALLOWED: { http: 403, coap: '4.03', mqtt: 0x87, message: 'topic not allowed for this client' },
  NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'not found' },
  DEVICE_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'device not found' },
  PROFILE_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'device profile not found' },
  ALARM_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'alarm not found' },
  COMMAND_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'command not found' },
  RULE_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'rule not found' },
  ZONE_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'zone not found' },
  TRIP_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'trip not found' },
  /** A zone whose geometry breaks a rule of GeoJSON (RFC 7946) or of ours: open ring, too many vertices, out-of-range coordinates. */
  INVALID_ZONE: { http: 400, coap: '4.00', mqtt: 0x80, message: 'invalid zone' },
  PACKAGE_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'OTA package not found' },
  /** A package a device or profile is assigned cannot be deleted. */
  PACKAGE_IN_USE: { http: 409, coap: '4.09', mqtt: 0x80, message: 'the package is assigned' },
  DEPLOYMENT_NOT_FOUND: { http: 404, coap: '4.04', mqtt: 0x80, message: 'OTA deployment not found' },
  /** Pause, resume or cancel of a deployment whose status does not allow it (e.g. resuming a completed one). */
  DEPLOYMENT_STATE: { http: 409, coap: '4.09', mqtt: 0x80, message: 'the deployment is not in a state that allows this' },
  /** The bytes do not hash to the checksum the uploader stated. */
  CHECKSUM_MISMATCH: { http: 422, coap: '4.06', mqtt: 0x80, message: 'checksum does not match the content' },
  /** A package signature that no key of the tenant verifies, or a missing one the tenant requires. */
  SIGNATURE_INVALID: { http: 400, coap: '4.00', mqtt: 0x80, message: 'package signature not valid' },
  /** Anti-rollback: the device runs a version below the package's minimum. */
  ROLLBACK_REFUSED: { http: 409, coap: '4.09', mqtt: 0x80, message: 'the package may not be installed over the device\'s version' },
  /** An HTTP Range outside the package (RFC 9110 §15.5.17). */
  RANGE_NOT_SATISFIABLE: { http: 416, coap: '4.02', mqtt: 0x80, message: 'range not satisfiable' },
  METHOD_NOT_ALLOWED: { http: 405, coap: '4.05', mqtt: 0x80, message: 'method not allowed' },
  CONFLICT: { http: 409, coap: '4.09', mqtt: 0x80, message: 'already exists' },
  DEVICE_NAME_TAKEN: { http: 409, coap: '4.09', mqtt: 0x80, message: 'a device with this name already exists' },
  REQUEST_INCOMPLETE: { http: 400, coap: '4.08', mqtt: 0x80, message: 'block-wise transfer incomplete' },
  UNSUPPORTED_CONTENT: { http: 415, coap: '4.15', mqtt: 0x99, message: 'unsupported content format' },
  PROVISION_REJECTED: { http: 401, coap: '4.01', mqtt: 0x87, message: 'provisioning rejected' },
  RPC_TIMEOUT: { http: 408, coap: '5.04', mqtt: 0x80, message: 'device did not answer in time' },
  DEVICE_OFFLINE: { http: 409, coap: '5.03', mqtt: 0x80, message: 'device is not connected' },
  QUOTA_EXCEEDED: { http: 429, coap: '4.29', mqtt: 0x97, message: 'quota exceeded' },
  /**
   * The tenant's device messages per second (tenant quota) are used up: try again after Retry-After.
   * MQTT 5 answers PUBACK 0x97: 0x96 (message rate too high) is a DISCONNECT reason only, a
   * PUBACK may not carry it (MQTT 5.0 §3.4.2.1).
   */
  TENANT_RATE_LIMITED: { http: 429, coap: '4.29', mqtt: 0x97, message: 'tenant message rate quota exceeded' },
  /** A tenant quota (devices, rules, stored points a day) is used up; an admin raises it, or the next UTC day resets points. */
  TENANT_QUOTA_EXCEEDED: { http: 403, coap: '4.03', mqtt: 0x97, message: 'tenant quota exceeded' },
  /** Too many failed attempts (sign-in, device authentication, provisioning): try again after Retry-After. MQTT 5 0x9F: connection rate exceeded. */
  RATE_LIMITED: { http: 429, coap: '4.29', mqtt: 0x9f, message: 'too many attempts' },
  REQUEST_TIMEOUT: { http: 408, coap: '4.08', mqtt: 0x80, message: 'the request did not arrive in time' },
  HEADERS_TOO_LARGE: { http: 431, coap: '4.13', mqtt: 0x95, message: 'request headers over the size limit' },
  UNAVAILABLE: { http: 503, coap: '5.03', mqtt: 0x88, message: 'service unavailable' },
  // Limits and conditions of the transports themselves, so that every refusal, counted in
  // continuum_rejects_total{reason}, is named by a code of this catalogue (one label vocabulary).
  CONNECTION_LIMIT: { http: 503, coap: '5.03', mqtt: 0x97, message: 'connection limit reached' },
  SESSION_LIMIT: { http: 503, coap: '5.03', mqtt: 0x97, message: 'MQTT session limit reached' },
  QUEUE_FULL: { http: 503, coap: '5.03', mqtt: 0x97, message: 'offline session queue full: oldest message dropped' },
  MESSAGE_EXPIRED: { http: 410, coap: '4.04', mqtt: 0x80, message: 'queued message expired before delivery' },
  SLOW_CONSUMER: { http: 503, coap: '5.03', mqtt: 0x89, message: 'client reads too slowly: QoS 0 message dropped' },
  PROTOCOL_ERROR: { http: 400, coap: '4.00', mqtt: 0x82, message: 'protocol error' },
  MALFORMED_PACKET: { http: 400, coap: '4.00', mqtt: 0x81, message: 'malformed packet' },
  TLS_HANDSHAKE_FAILED: { http: 400, coap: '4.00', mqtt: 0x80, message: 'TLS handshake failed' },
  SEQUENCE_GAP: { http: 400, coap: '4.00', mqtt: 0x80, message: 'Sparkplug sequence number out of order' },
  BIRTH_MISSING: { http: 400, coap: '4.00', mqtt: 0x80, message: 'Sparkplug data without a birth: rebirth requested' },
  INTERNAL: { http: 500, coap: '5.00', mqtt: 0x83, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The only error type services throw. `detail` is safe to show to the caller. */
export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** When the caller may try again (RATE_LIMITED, UNAVAILABLE): HTTP Retry-After, in whole seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message, options);
    this.name = 'PlatformError';
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  get spec(): ErrorSpec {
    return ERRORS[this.code];
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

/** Wraps anything thrown into a PlatformError so adapters have one shape to map. */
export function asPlatformError(err: unknown): PlatformError {
  if (err instanceof PlatformError) return err;
  return new PlatformError('INTERNAL', undefined, { cause: err });
}

export function isPlatformError(err: unknown, code?: ErrorCode): err is PlatformError {
  return err instanceof PlatformError && (code === undefined || err.code === code);
}

/**
 * The general code of a status, where several codes share one (413 is also VALUE_TOO_LONG, 401
 * also BAD_CREDENTIALS): what Fastify refuses is never one of the specific ones.
 */
const GENERAL_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_CONTENT',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'UNAVAILABLE',
};

/** The catalogue code for an HTTP status a framework raised (body too large, bad JSON, …). */
export function codeForHttpStatus(status: number): ErrorCode {
  const found = GENERAL_CODES[status] ?? (Object.keys(ERRORS) as ErrorCode[]).find((code) => ERRORS[code].http === status);
  return found ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}
