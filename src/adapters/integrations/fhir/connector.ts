/**
 * Export to an HL7 FHIR R4 server (issue 18 item 7). Committed telemetry of the tenant's devices
 * becomes vital-signs Observations (protocols/fhir/: LOINC codes, UCUM units, one Observation per
 * mapped key and timestamp, blood pressure as one panel), sent as `transaction` Bundles of at most
 * `maxEntries` Observations by POST to the server's base URL. A batch counts as sent once the
 * server answered 2xx to each of its Bundles; every entry is a conditional write on a stable
 * identifier, so a Bundle sent again after a lost answer changes nothing.
 *
 * HTTP has no connection to watch: a network error, a timeout, 408, 429 or 5xx tells the runner
 * the server is away (it waits `reconnectMs`, doubling to a minute, and tries again); any other
 * refusal (400, 401, 422, …) leaves the records buffered with the server's diagnostics as
 * lastError, since sending them again unchanged would be refused again until someone fixes the
 * config or the server.
 */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../../../domain/errors.js';
import { normalHostname } from '../../../domain/outbound/allow-list.js';
import type { ExportRecord, Integration, JsonObject } from '../../../domain/integrations.js';
import { DEFAULT_VITAL_MAPPING, VITALS, type Vital } from '../../../protocols/fhir/vitals.js';
import { observationsOf, transactionBundle, type FhirJson, type ObservationOptions } from '../../../protocols/fhir/observation.js';
import type { IntegrationConnector, IntegrationLink, IntegrationLinkEvents, PinnedHosts } from '../../../ports.js';
import { checkConfig } from '../config.js';
import { outcomeText, postJson } from './http.js';

/** Headers a config may not set: the link sets them, or they would change the framing. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'accept']);
const MAX_RECONNECT_MS = 60_000;

export const FhirConfig = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^@\\s]+$', maxLength: 2048, description: 'the FHIR base URL (credentials go in bearerToken or headers)' }),
    bearerToken: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^[\\x21-\\x7e]+$' })),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" }), Type.String({ maxLength: 4096, pattern: '^[^\\r\\n\\0]*$' }), { maxProperties: 20 }),
    ),
    mapping: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Union([...VITALS.map((v) => Type.Literal(v)), Type.Null()]), {
        maxProperties: 200,
        description: 'telemetry key → vital (null: not exported), laid over the default mapping',
      }),
    ),
    mode: Type.Union([Type.Literal('conditional-update'), Type.Literal('if-none-exist')], { default: 'conditional-update' }),
    identifierSystem: Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S+$', default: 'urn:continuum:observation' }),
    deviceSystem: Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S+$', default: 'urn:continuum:device' }),
    patientReference: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S+$', description: 'e.g. Patient/{deviceName}' })),
    maxEntries: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
    reconnectMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000 }),
  },
  { additionalProperties: false },
);
type Config = typeof FhirConfig.static;

function validate(raw: unknown): JsonObject {
  const config = checkConfig(FhirConfig, raw, 'fhir');
  for (const name of Object.keys(config.headers ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new PlatformError('BAD_REQUEST', `fhir config: /headers/${name} is set by the link`);
  }
  return config as unknown as JsonObject;
}

export const fhirConnector: IntegrationConnector = {
  type: 'fhir',
  secretFields: ['bearerToken', 'headers'],
  events: ['telemetry'],
  validate,
  directions: () => ({ out: true, in: false }),
  targets: (config) => [new URL((config as { url: string }).url)],
  open: (integration, events, pinned) => openLink(integration, events, pinned),
};

/** The default mapping with the config's laid over it (null removes a key). */
function mappingOf(c: Config): Record<string, Vital> {
  const mapping: Record<string, Vital> = { ...DEFAULT_VITAL_MAPPING };
  for (const [key, vital] of Object.entries(c.mapping ?? {})) {
    if (vital === null) delete mapping[key];
    else mapping[key] = vital;
  }
  return mapping;
}

/** The Observations of the telemetry records of a batch (other events are not exported here). */
export function observationsOfRecords(records: readonly ExportRecord[], options: ObservationOptions): FhirJson[] {
  const out: FhirJson[] = [];
  for (const r of records) {
    if (r.event !== 'telemetry') continue;
    const body = JSON.parse(r.payload) as { values?: Record<string, unknown> };
    out.push(...observationsOf({ deviceId: r.deviceId, deviceName: r.deviceName, ts: r.ts, values: body.values ?? {} }, options));
  }
  return out;
}

function openLink(integration: Integration, events: IntegrationLinkEvents, pinned: PinnedHosts): IntegrationLink {
  const c = integration.config as unknown as Config;
  const base = new URL(c.url);
  const address = pinned.get(normalHostname(base.hostname));
  if (address === undefined) throw new PlatformError('OUTBOUND_REFUSED', `${base.protocol}//${base.host} was not checked by the outbound policy`);
  const options: ObservationOptions = {
    mapping: mappingOf(c),
    identifierSystem: c.identifierSystem,
    deviceSystem: c.deviceSystem,
    ...(c.patientReference !== undefined ? { patientReference: c.patientReference } : {}),
  };
  const headers: Record<string, string> = { ...(c.headers ?? {}), ...(c.bearerToken !== undefined ? { authorization: `Bearer ${c.bearerToken}` } : {}) };
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let waitMs = c.reconnectMs;

  // Away: tell the runner (it stops sending), and say "connected" again after a wait so it retries.
  const away = (err: unknown): never => {
    events.onDisconnected(err);
    if (!closed && !timer) {
      timer = setTimeout(() => {
        timer = undefined;
        if (!closed) events.onConnected();
      }, waitMs);
      timer.unref();
      waitMs = Math.min(waitMs * 2, MAX_RECONNECT_MS);
    }
    throw err instanceof PlatformError ? err : new PlatformError('UNAVAILABLE', `fhir: ${err instanceof Error ? err.message : String(err)}`);
  };

  const post = async (bundle: FhirJson): Promise<void> => {
    let answer;
    try {
      answer = await postJson(base, address, headers, JSON.stringify(bundle), c.timeoutMs);
    } catch (err) {
      return away(err);
    }
    if (answer.status >= 200 && answer.status < 300) return;
    const reason = `fhir: the server answered ${answer.status}: ${outcomeText(answer.text)}`;
    if (answer.status === 408 || answer.status === 429 || answer.status >= 500) return away(new PlatformError('UNAVAILABLE', reason));
    throw new PlatformError('UNAVAILABLE', reason);
  };

  queueMicrotask(() => {
    if (!closed) events.onConnected();
  });
  return {
    async send(records) {
      const observations = observationsOfRecords(records, options);
      for (let i = 0; i < observations.length; i += c.maxEntries) await post(transactionBundle(observations.slice(i, i + c.maxEntries), c.mode));
      waitMs = c.reconnectMs;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
