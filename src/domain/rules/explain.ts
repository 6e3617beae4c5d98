/**
 * Why a detector rule fired, in words an operator can check: the detector call, its score, the
 * baseline the score was measured against and the threshold it crossed. Merged into the details
 * of the alarms such a rule raises (the details a user wrote keep their own keys).
 */
import { detectorLastTs, detectorReading } from '../detectors/detectors.js';
import type { DetectorRef } from '../expression/index.js';
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

/** undefined for a rule without detectors; else the first detector's fields, plus all of them under `detectors` when there are several. */
export function detectorDetails(compiled: CompiledRule, state: RuleState): Record<string, JsonValue> | undefined {
  const all = compiled.analysis.detectors;
  if (all.length === 0) return undefined;
  const parts = all.map((d) => explainOne(d, state));
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
