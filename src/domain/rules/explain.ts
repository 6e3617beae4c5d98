/**
 * Why a detector rule fired, in words an operator can check: the detector call, its score, the
 * baseline the score was measured against and the threshold it crossed. Merged into the details
 * of the alarms such a rule raises (the details a user wrote keep their own keys).
 */
import { detectorLastTs, detectorReading } from '../detectors/detectors.js';
import type { DetectorRef, ModelRef } from '../expression/index.js';
import type { ModelReading } from '../forecast/key-model.js';
import type { JsonValue } from '../telemetry.js';
import type { CompiledRule } from './compile.js';
import type { ActionConfig } from './model.js';
import { detectorState, type RuleState } from './state.js';

/** Six significant digits: an explanation, not a measurement record. */
const tidy = (x: number): number => Number(x.toPrecision(6));

export function describeDetector(d: DetectorRef): string {
  return `${d.fn}(${d.key}${d.params.map((p) => `, ${p}`).join('')})`;
}

function explainOne(d: DetectorRef, state: RuleState): Record<string, JsonValue> {
  const s = detectorState(state, d);
  const reading = detectorReading(d, s);
  const threshold = d.threshold ?? reading?.threshold;
  const ts = detectorLastTs(s);
  return {
    detector: describeDetector(d),
    score: reading ? tidy(reading.score) : null,
    baseline: reading ? tidy(reading.baseline) : null,
    threshold: threshold ?? null,
    ...(ts !== undefined ? { ts } : {}),
  };
}

function describeModel(m: ModelRef): string {
  return `${m.fn}(${m.key}${m.hours !== undefined ? `, ${m.hours}` : ''})`;
}

function explainModel(m: ModelRef, read: ModelReading | null): Record<string, JsonValue> {
  return {
    detector: describeModel(m),
    score: read ? tidy(read.score) : null,
    baseline: read ? tidy(read.baseline) : null,
    threshold: m.threshold ?? null,
    ...(read?.at !== undefined ? { forecastTs: read.at } : {}),
    ...(read?.lower !== undefined && read.upper !== undefined ? { lower: tidy(read.lower), upper: tidy(read.upper) } : {}),
  };
}

/**
 * undefined for a rule without detectors or model calls; else the first one's fields, plus all of
 * them under `detectors` when there are several. `readModel` answers what a model call read.
 */
export function detectorDetails(compiled: CompiledRule, state: RuleState, readModel?: (use: ModelRef) => ModelReading | null): Record<string, JsonValue> | undefined {
  const all = compiled.analysis.detectors;
  const models = compiled.analysis.models;
  if (all.length === 0 && models.length === 0) return undefined;
  const parts = [...all.map((d) => explainOne(d, state)), ...models.map((m) => explainModel(m, readModel?.(m) ?? null))];
  return { rule: compiled.rule.name, ...(parts[0] as Record<string, JsonValue>), ...(parts.length > 1 ? { detectors: parts } : {}) };
}

/** The alarm's details with the explanation added: keys the user set win; a non-object details stays under `text`. */
export function mergeDetails(action: ActionConfig, explain: Readonly<Record<string, JsonValue>>): ActionConfig {
  const given = action.details;
  let details: Record<string, JsonValue>;
  if (given === undefined || given === null) details = { ...explain };
  else if (typeof given === 'object' && !Array.isArray(given)) details = { ...explain, ...given };
  else details = { ...explain, text: given };
  return { ...action, details };
}
