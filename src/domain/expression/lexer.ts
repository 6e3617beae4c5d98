/**
 * Tokens of the rule expression language. Every token carries its position (offset, 1-based line
 * and column) so that parse and evaluation errors can point at the text the user wrote.
 */
import { ExpressionError, type Position } from './errors.js';

export type TokenKind = 'number' | 'string' | 'ident' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The operator or identifier text; the decoded value of a string literal. */
  readonly text: string;
  readonly number?: number;
  readonly pos: Position;
}

/** Longest first, so `<=` is not read as `<` then `=`. */
const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', ','];

const isIdentStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', '/': '/', $: '$' };

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (offset: number): Position => ({ offset, line, column: offset - lineStart + 1 });

  while (i < source.length) {
    const c = source[i] as string;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const pos = at(i);
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i));
      const text = (m as RegExpExecArray)[0];
      if (isIdentStart(source[i + text.length] ?? '')) throw new ExpressionError(`malformed number "${text}${source[i + text.length]}"`, pos);
      const number = Number(text);
      // A literal past Number.MAX_VALUE reads as Infinity, which no JSON value or telemetry
      // point can carry (the evaluator turns every non-finite result into null for the same reason).
      if (!Number.isFinite(number)) throw new ExpressionError(`number ${text} is out of range`, pos);
      tokens.push({ kind: 'number', text, number, pos });
      i += text.length;
      continue;
    }
    if (isIdentStart(c)) {
      // Dotted names (`shared.rainForecast`, `gps.lat`) are one token: a key path, never a method call.
      let j = i + 1;
      for (;;) {
        while (j < source.length && isIdentPart(source[j] as string)) j++;
        if (source[j] === '.' && isIdentStart(source[j + 1] ?? '')) j += 2;
        else break;
      }
      tokens.push({ kind: 'ident', text: source.slice(i, j), pos });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        const d = source[j];
        if (d === undefined || d === '\n') throw new ExpressionError('unterminated string', pos);
        if (d === c) break;
        if (d === '\\') {
          const e = source[j + 1] ?? '';
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(j + 2, j + 6))) {
            value += String.fromCharCode(parseInt(source.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          const decoded = ESCAPES[e];
          if (decoded === undefined) throw new ExpressionError(`unknown escape "\\${e}"`, at(j));
          value += decoded;
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: 'string', text: value, pos });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) {
      const hint = c === '=' ? ' (use == to compare)' : c === '&' || c === '|' ? ` (use ${c}${c})` : '';
      throw new ExpressionError(`unexpected character "${c}"${hint}`, pos);
    }
    tokens.push({ kind: 'op', text: op, pos });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: at(i) });
  return tokens;
}
