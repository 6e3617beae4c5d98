/**
 * Template strings in action parameters: `"${deviceName}: moisture ${soilMoisture}"`. Each
 * `${…}` holds an expression of the same language; `$${` writes a literal `${`. A string that is
 * exactly one `${expr}` renders to the expression's value itself (a number stays a number), so
 * `{"on": "${moisture < 30}"}` sends a boolean.
 */
import { ExpressionError, positionAt } from './errors.js';
import { evaluate, type Scope } from './evaluate.js';
import { analyze, type Analysis } from './functions.js';
import { parseExpression, type Node } from './parser.js';
import type { JsonValue } from '../telemetry.js';

export type TemplatePart = string | { readonly node: Node; readonly source: string };

export interface Template {
  readonly parts: readonly TemplatePart[];
  readonly analysis: Analysis;
}

/** True when the string needs compiling at all (most parameters are plain text). */
export function isTemplate(text: string): boolean {
  return text.includes('${');
}

/** Offset of the `}` closing an expression that starts at `from`, skipping quoted strings. */
function closingBrace(text: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return i;
  }
  return -1;
}

export function parseTemplate(text: string): Template {
  const parts: TemplatePart[] = [];
  const analyses: Analysis[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i++;
      continue;
    }
    const start = i + 2;
    const end = closingBrace(text, start);
    if (end < 0) throw new ExpressionError('"${" without a closing "}"', positionAt(text, i));
    const source = text.slice(start, end);
    try {
      const node = parseExpression(source);
      analyses.push(analyze(node));
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ node, source });
    } catch (err) {
      // Positions inside the `${…}` become positions inside the whole string.
      if (err instanceof ExpressionError) throw new ExpressionError(err.reason, positionAt(text, start + err.position.offset));
      throw err;
    }
    i = end + 1;
  }
  if (literal) parts.push(literal);
  return { parts, analysis: mergeAnalyses(analyses) };
}

export function mergeAnalyses(list: readonly Analysis[]): Analysis {
  return {
    identifiers: [...new Set(list.flatMap((a) => a.identifiers))],
    windows: list.flatMap((a) => a.windows),
    attributes: list.flatMap((a) => a.attributes),
    latestKeys: [...new Set(list.flatMap((a) => a.latestKeys))],
    // One state per slot: the condition's call (with its threshold) wins over a template's.
    detectors: [...new Map(list.flatMap((a) => a.detectors).reverse().map((d) => [d.slot, d])).values()].reverse(),
    models: [...new Map(list.flatMap((a) => a.models).reverse().map((d) => [d.slot, d])).values()].reverse(),
    geofences: [...new Map(list.flatMap((a) => a.geofences).map((g) => [g.slot, g])).values()],
  };
}

function asText(v: JsonValue): string {
  if (v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function renderTemplate(template: Template, scope: Scope): JsonValue {
  const [only, ...rest] = template.parts;
  if (only !== undefined && typeof only !== 'string' && rest.length === 0) return evaluate(only.node, scope);
  return template.parts.map((p) => (typeof p === 'string' ? p : asText(evaluate(p.node, scope)))).join('');
}
