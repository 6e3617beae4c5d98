/**
 * Telemetry samples as HL7 FHIR R4 vital-signs Observations, and a batch of them as one
 * `transaction` Bundle. Every Observation carries an identifier derived from (device, key, time),
 * and each Bundle entry is a conditional write on it: sending the same batch again (an
 * acknowledgement lost on the way) updates the same resources instead of creating copies.
 */
import { createHash } from 'node:crypto';
import { BP_PANEL, UCUM, VITAL_SPECS, type Coding, type Vital } from './vitals.js';

export type FhirJson = { [key: string]: unknown };

/** One device's values at one time (an export record of event `telemetry`). */
export interface VitalSample {
  readonly deviceId: string;
  readonly deviceName: string;
  readonly ts: number;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface ObservationOptions {
  /** Telemetry key → vital; keys not named are not exported. */
  readonly mapping: Readonly<Record<string, Vital>>;
  /** The system of the Observation identifiers (the idempotency key). */
  readonly identifierSystem: string;
  /** Observation.subject: a literal reference template (`Patient/{deviceName}`), else a logical one naming the device. */
  readonly patientReference?: string;
  /** The identifier system of the device (Observation.device, and the default subject). */
  readonly deviceSystem: string;
}

export type WriteMode = 'conditional-update' | 'if-none-exist';

const CATEGORY = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }],
  text: 'Vital Signs',
};
const ABSENT = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown', display: 'Unknown' }] };

/** Characters a FHIR id may hold ([A-Za-z0-9-.]); anything else from a device name becomes `-`. */
function idPart(value: string): string {
  return value.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64) || '-';
}

export function renderReference(template: string, sample: Pick<VitalSample, 'deviceId' | 'deviceName'>): string {
  return template.replace(/\$?\{(deviceId|deviceName)\}/g, (_m, name: string) => idPart(name === 'deviceId' ? sample.deviceId : sample.deviceName));
}

/** A UUID derived from the identifier, so a resent entry has the same fullUrl. */
function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function quantity(vital: Vital, value: number): FhirJson {
  const spec = VITAL_SPECS[vital];
  return { value, unit: spec.unit, system: UCUM, code: spec.ucum };
}

function concept(codings: readonly Coding[]): FhirJson {
  return { coding: codings.map((c) => ({ ...c })), text: codings[0]?.display };
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The Observations of one sample: one per mapped numeric key, and one blood-pressure panel when
 * a systolic or diastolic value is present (a missing half is a component with dataAbsentReason).
 * Values that are not finite numbers are skipped.
 */
export function observationsOf(sample: VitalSample, options: ObservationOptions): FhirJson[] {
  const effectiveDateTime = new Date(sample.ts).toISOString();
  const device = { type: 'Device', identifier: { system: options.deviceSystem, value: sample.deviceId }, display: sample.deviceName };
  const subject = options.patientReference
    ? { reference: renderReference(options.patientReference, sample), display: sample.deviceName }
    : { type: 'Patient', identifier: { system: options.deviceSystem, value: sample.deviceId }, display: `patient wearing ${sample.deviceName}` };
  const base = (idKey: string, profile: string): FhirJson => ({
    resourceType: 'Observation',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns', profile] },
    identifier: [{ system: options.identifierSystem, value: `${sample.deviceId}/${idKey}/${sample.ts}` }],
    status: 'final',
    category: [CATEGORY],
  });
  const out: FhirJson[] = [];
  const bp: Partial<Record<'systolic' | 'diastolic', number>> = {};
  for (const [key, raw] of Object.entries(sample.values)) {
    const vital = Object.hasOwn(options.mapping, key) ? options.mapping[key] : undefined;
    const value = numberOf(raw);
    if (vital === undefined || value === undefined) continue;
    if (vital === 'systolic' || vital === 'diastolic') {
      bp[vital] ??= value;
      continue;
    }
    const spec = VITAL_SPECS[vital];
    out.push({ ...base(key, spec.profile), code: concept(spec.codings), subject, effectiveDateTime, valueQuantity: quantity(vital, value), device });
  }
  if (bp.systolic !== undefined || bp.diastolic !== undefined) {
    const component = (['systolic', 'diastolic'] as const).map((half) => {
      const value = bp[half];
      return { code: concept(VITAL_SPECS[half].codings), ...(value !== undefined ? { valueQuantity: quantity(half, value) } : { dataAbsentReason: ABSENT }) };
    });
    out.push({ ...base('blood-pressure', VITAL_SPECS.systolic.profile), code: concept([BP_PANEL]), subject, effectiveDateTime, device, component });
  }
  return out;
}

/** The identifier token (`system|value`) of an Observation built above. */
function identifierToken(observation: FhirJson): string {
  const [id] = observation.identifier as { system: string; value: string }[];
  return `${id?.system ?? ''}|${id?.value ?? ''}`;
}

/**
 * One transaction Bundle: each Observation a conditional write on its identifier, either an
 * update (PUT Observation?identifier=…: created when absent, replaced when present) or a create
 * that the server skips when one with the identifier exists (POST with ifNoneExist).
 */
export function transactionBundle(observations: readonly FhirJson[], mode: WriteMode): FhirJson {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: observations.map((resource) => {
      const query = `identifier=${encodeURIComponent(identifierToken(resource))}`;
      return {
        fullUrl: `urn:uuid:${stableUuid(identifierToken(resource))}`,
        resource,
        request: mode === 'conditional-update' ? { method: 'PUT', url: `Observation?${query}` } : { method: 'POST', url: 'Observation', ifNoneExist: query },
      };
    }),
  };
}
