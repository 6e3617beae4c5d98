/**
 * Inbound SMS → action, pure: the whitelist (number → sender device) and the first pattern whose
 * expression matches the whole trimmed text. `$n` in telemetry and command values is the n-th
 * group; a value that is exactly one substitution is typed: the pattern's `map` first
 * (`{ON: true}`), then a decimal number, else the text.
 */
import type { JsonValue } from '../../../domain/telemetry.js';
import { normalizeNumber, type SmsConnectorConfig, type SmsPatternConfig, type SmsDeviceConfig } from './config.js';

export type ValueMap = Readonly<Record<string, string | number | boolean>>;

export type Decision =
  | { readonly kind: 'rejected'; readonly reason: 'unknown-sender' | 'no-pattern'; readonly sender?: SmsDeviceConfig }
  | { readonly kind: 'telemetry'; readonly sender: SmsDeviceConfig; readonly values: Record<string, JsonValue>; readonly pattern: CompiledPattern; readonly groups: readonly string[] }
  | { readonly kind: 'command'; readonly sender: SmsDeviceConfig; readonly device: string; readonly method: string; readonly params: JsonValue; readonly pattern: CompiledPattern; readonly groups: readonly string[] };

export interface CompiledPattern {
  readonly config: SmsPatternConfig;
  readonly regex: RegExp;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Replaces `$n` (and `$0`, the whole text) in one string. */
function substitute(text: string, groups: readonly string[]): string {
  return text.replace(/\$(\d)/g, (_, n: string) => groups[Number(n)] ?? '');
}

/** Types one rendered string: a whole-value substitution goes through the map, then numbers. */
export function typed(rendered: string, wasSingleRef: boolean, map: ValueMap | undefined): JsonValue {
  const key = Object.keys(map ?? {}).find((k) => k.toLowerCase() === rendered.toLowerCase());
  if (map && key !== undefined) return map[key] as JsonValue;
  if (wasSingleRef && NUMBER.test(rendered)) return Number(rendered);
  return rendered;
}

/** Renders every string inside a JSON tree. */
export function renderTree(tree: unknown, groups: readonly string[], map: ValueMap | undefined): JsonValue {
  if (typeof tree === 'string') return typed(substitute(tree, groups), /^\$\d$/.test(tree), map);
  if (Array.isArray(tree)) return tree.map((v) => renderTree(v, groups, map));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = renderTree(v, groups, map);
    return out;
  }
  return (tree ?? null) as JsonValue;
}

/** Outbound text: `{key}` → params.key, `{}` → the params themselves; each value through `map`. */
export function renderText(template: string, params: JsonValue, map: ValueMap | undefined): string {
  return template.replace(/\{([A-Za-z0-9_]*)\}/g, (whole, key: string) => {
    let value: JsonValue | undefined;
    if (key === '') value = params;
    else if (params !== null && typeof params === 'object' && !Array.isArray(params)) value = params[key];
    if (value === undefined) throw new Error(`params need "${key}" for the text "${template}"`);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const mapped = map?.[text];
    return mapped === undefined ? text : String(mapped);
  });
}

export class PatternSet {
  private readonly byNumber = new Map<string, SmsDeviceConfig>();
  private readonly patterns: CompiledPattern[];

  constructor(config: Pick<SmsConnectorConfig, 'devices' | 'patterns'>) {
    for (const d of config.devices) this.byNumber.set(normalizeNumber(d.number), d);
    this.patterns = config.patterns.map((p) => ({ config: p, regex: new RegExp(p.match, p.ignoreCase ? 'i' : '') }));
  }

  sender(number: string): SmsDeviceConfig | undefined {
    return this.byNumber.get(normalizeNumber(number));
  }

  decide(from: string, text: string): Decision {
    const sender = this.sender(from);
    if (!sender) return { kind: 'rejected', reason: 'unknown-sender' };
    const trimmed = text.trim();
    for (const pattern of this.patterns) {
      const allowed = pattern.config.from === undefined || pattern.config.from.includes(sender.name);
      const m = allowed ? pattern.regex.exec(trimmed) : null;
      // The whole text must match: "PUMP ON PLEASE" is not "PUMP ON".
      if (!m || m[0] !== trimmed) continue;
      const groups = [...m].map((g) => g ?? '');
      const { command, telemetry, map } = pattern.config;
      if (command) return { kind: 'command', sender, device: command.device, method: command.method, params: renderTree(command.params ?? {}, groups, map), pattern, groups };
      return { kind: 'telemetry', sender, values: renderTree(telemetry ?? {}, groups, map) as Record<string, JsonValue>, pattern, groups };
    }
    return { kind: 'rejected', reason: 'no-pattern', sender };
  }

  /** The reply text of a pattern, if it has one: `$n` and `{result}`. */
  reply(pattern: CompiledPattern, groups: readonly string[], result: string): string | undefined {
    const r = pattern.config.reply;
    return r === undefined ? undefined : substitute(r, groups).replace(/\{result\}/g, result);
  }
}
