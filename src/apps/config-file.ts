/**
 * Reading a config file so that a mistake is named where it is: the file and line of a syntax
 * error, of an unknown key (with the nearest known key), of a value the schema refuses. A
 * config that starts "fine" with `httpPort: 18080` silently ignored is worse than one that
 * refuses to start, so unknown keys are errors.
 */
import { readFileSync } from 'node:fs';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, isMap, isScalar, parseDocument, type Node } from 'yaml';

export interface ConfigFile {
  readonly file: string;
  readonly tree: Record<string, unknown>;
  /** Line (1-based) of the key at a dotted path, when the file has it. */
  line(path: string): number | undefined;
}

/** A file problem already phrased for people: `FILE:LINE: message`. */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

function at(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file}:${line}`;
}

/** JSON.parse says "at position N" (Node 20) or "(line L column C)" (Node 22); both become a line. */
function jsonErrorLine(text: string, message: string): number | undefined {
  const lineCol = /line (\d+) column \d+/.exec(message);
  if (lineCol) return Number(lineCol[1]);
  const pos = /at position (\d+)/.exec(message);
  if (!pos) return undefined;
  return text.slice(0, Number(pos[1])).split('\n').length;
}

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (file.endsWith('.json')) {
    // JSON's own parser, so a JSON file is held to JSON (no comments, no trailing commas).
    try {
      JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      throw new ConfigFileError(`${at(file, jsonErrorLine(text, message))}: invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
    }
  }
  // YAML 1.2 reads JSON too, and keeps where each key is.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line ?? lineCounter.linePos(first.pos[0]).line;
    throw new ConfigFileError(`${at(file, line)}: invalid YAML: ${first.message.split('\n')[0] ?? first.code}`);
  }
  const tree: unknown = doc.toJS();
  if (tree === null || tree === undefined) return { file, tree: {}, line: () => undefined };
  if (typeof tree !== 'object' || Array.isArray(tree)) throw new ConfigFileError(`${file}: the config must be a mapping of settings, not a ${Array.isArray(tree) ? 'list' : typeof tree}`);
  return {
    file,
    tree: tree as Record<string, unknown>,
    line(path) {
      let node: Node | null | undefined = doc.contents as Node | null;
      let found: number | undefined;
      for (const part of path.split('.')) {
        if (!isMap(node)) return found;
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === part);
        if (!pair || !isScalar(pair.key) || !pair.key.range) return found;
        found = lineCounter.linePos(pair.key.range[0]).line;
        node = pair.value as Node | null;
      }
      return found;
    },
  };
}

/** The dotted paths of every setting the schema knows: objects and leaves. */
export function schemaPaths(schema: TSchema, prefix = ''): string[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props) return [];
  return Object.entries(props).flatMap(([k, s]) => [`${prefix}${k}`, ...schemaPaths(s, `${prefix}${k}.`)]);
}

/** Keys of `tree` the schema has no place for, as dotted paths; nothing below an unknown key. */
export function unknownKeys(tree: Record<string, unknown>, schema: TSchema, prefix = ''): string[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(tree)) {
    const sub = props[k];
    if (!sub) out.push(`${prefix}${k}`);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...unknownKeys(v as Record<string, unknown>, sub, `${prefix}${k}.`));
  }
  return out;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number;
      row[j] = Math.min(up + 1, (row[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] as number;
}

/** Letters only, lower case: `httpPort`, `http_port` and `http.port` are the same words. */
const fold = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The known name closest to `wrong`, or undefined when nothing is close. Compared folded, so
 * `httpPort` at the top finds `http.port`, and by the last segment, so `mqtt.prot` finds `mqtt.port`.
 */
export function didYouMean(wrong: string, known: readonly string[]): string | undefined {
  const target = fold(wrong);
  const last = fold(wrong.split('.').pop() ?? wrong);
  const parent = wrong.includes('.') ? wrong.slice(0, wrong.lastIndexOf('.') + 1) : '';
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const whole = editDistance(target, fold(name));
    const sibling = name.startsWith(parent) && !name.slice(parent.length).includes('.') ? editDistance(last, fold(name.slice(parent.length))) : Infinity;
    const d = Math.min(whole, sibling);
    if (!best || d < best.d) best = { name, d };
  }
  // Up to a third of the word may differ (at least 1, at most 3 edits): beyond that it is a guess.
  return best && best.d <= Math.max(1, Math.min(3, Math.floor(target.length / 3))) ? best.name : undefined;
}

/** The allowed values of an enum-like schema (a union of literals), else undefined. */
export function allowedValues(schema: TSchema | undefined): string[] | undefined {
  const anyOf = (schema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (!anyOf || anyOf.length === 0 || !anyOf.every((s) => s.const !== undefined)) return undefined;
  return anyOf.map((s) => String(s.const));
}

/** Where an effective setting came from, for `continuum config print` and error messages. */
export interface SettingOrigin {
  readonly source: 'default' | 'file' | 'env' | 'flag' | 'override';
  /** `FILE:LINE`, the variable's name or `--flag`. */
  readonly where?: string;
}

export function originOf(origins: ReadonlyMap<string, SettingOrigin>, path: string): SettingOrigin | undefined {
  // The nearest recorded ancestor: a file that sets `http: 5` records `http`, the error is about `http`.
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const o = origins.get(p);
    if (o) return o;
  }
  return undefined;
}

export function recordLeaves(origins: Map<string, SettingOrigin>, tree: Record<string, unknown>, origin: (path: string) => SettingOrigin, prefix = ''): void {
  for (const [k, v] of Object.entries(tree)) {
    const path = `${prefix}${k}`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) recordLeaves(origins, v as Record<string, unknown>, origin, `${path}.`);
    else {
      // A source that sets a leaf replaces whatever was recorded below it.
      for (const key of [...origins.keys()]) if (key.startsWith(`${path}.`)) origins.delete(key);
      origins.set(path, origin(path));
    }
  }
}
