/**
 * The vital signs Continuum exports as HL7 FHIR R4 Observations: the LOINC code of each, its UCUM
 * unit, and the R4 vital-signs profile it follows (hl7.org/fhir/R4/observation-vitalsigns.html).
 * Blood pressure is one panel (85354-9) whose components are the systolic and diastolic values,
 * so those two are mapped to `systolic`/`diastolic` and joined per timestamp.
 */

export const VITALS = ['heart-rate', 'oxygen-saturation', 'body-temperature', 'respiratory-rate', 'systolic', 'diastolic'] as const;
export type Vital = (typeof VITALS)[number];

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

export interface VitalSpec {
  /** Codings of Observation.code (LOINC); the first is the vital-signs profile's required code. */
  readonly codings: readonly Coding[];
  /** UCUM code, and the human-readable unit beside it. */
  readonly ucum: string;
  readonly unit: string;
  /** The R4 vital-signs profile (StructureDefinition) the Observation claims. */
  readonly profile: string;
}

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
const SD = 'http://hl7.org/fhir/StructureDefinition/';

const loinc = (code: string, display: string): Coding => ({ system: LOINC, code, display });

export const VITAL_SPECS: Readonly<Record<Vital, VitalSpec>> = {
  'heart-rate': { codings: [loinc('8867-4', 'Heart rate')], ucum: '/min', unit: 'beats/minute', profile: `${SD}heartrate` },
  // The R4 profile requires 2708-6; pulse oximetry's own code 59408-5 is kept beside it.
  'oxygen-saturation': {
    codings: [loinc('2708-6', 'Oxygen saturation in Arterial blood'), loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry')],
    ucum: '%',
    unit: '%',
    profile: `${SD}oxygensat`,
  },
  'body-temperature': { codings: [loinc('8310-5', 'Body temperature')], ucum: 'Cel', unit: 'Cel', profile: `${SD}bodytemp` },
  'respiratory-rate': { codings: [loinc('9279-1', 'Respiratory rate')], ucum: '/min', unit: 'breaths/minute', profile: `${SD}resprate` },
  systolic: { codings: [loinc('8480-6', 'Systolic blood pressure')], ucum: 'mm[Hg]', unit: 'mmHg', profile: `${SD}bp` },
  diastolic: { codings: [loinc('8462-4', 'Diastolic blood pressure')], ucum: 'mm[Hg]', unit: 'mmHg', profile: `${SD}bp` },
};

export const BP_PANEL: Coding = loinc('85354-9', 'Blood pressure panel with all children optional');

/**
 * Telemetry keys → vitals when the integration's config names none: the patient-monitoring pack's
 * wearable (heartRate, spo2, bodyTemp) and ECG recorder (ecgHeartRate), and the common spellings
 * of the others. A config's `mapping` is laid over this one (null removes a key).
 */
export const DEFAULT_VITAL_MAPPING: Readonly<Record<string, Vital>> = {
  heartRate: 'heart-rate',
  ecgHeartRate: 'heart-rate',
  spo2: 'oxygen-saturation',
  bodyTemp: 'body-temperature',
  respiratoryRate: 'respiratory-rate',
  respRate: 'respiratory-rate',
  systolic: 'systolic',
  bpSystolic: 'systolic',
  diastolic: 'diastolic',
  bpDiastolic: 'diastolic',
};
