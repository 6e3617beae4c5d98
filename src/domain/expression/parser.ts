/**
 * A Pratt parser for the rule expression language. The grammar has no loops, assignments,
 * lambdas or user-defined functions; calls are limited to a fixed whitelist (functions.ts), so
 * evaluating a parsed expression costs time linear in its size (plus window lengths).
 *
 * Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >= in` (not chainable), `+ -`,
 * `* / %`, prefix `! -`. Literals: numbers, strings in '' or "", true/false/null, lists [a, b].
 */
import { ExpressionError, positionAt, type Position } from './errors.js';
import { tokenize, type Token } from './lexer.js';

export type Literal = null | boolean | number | string;

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | '+' | '-' | '*' | '/' | '%';

export type Node =
  | { readonly kind: 'literal'; readonly value: Literal; readonly pos: Position }
  | { readonly kind: 'ident'; readonly name: string; readonly pos: Position }
  | { readonly kind: 'unary'; readonly op: '!' | '-'; readonly operand: Node; readonly pos: Position }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Node; readonly right: Node; readonly pos: Position }
  | { readonly kind: 'list'; readonly items: readonly Node[]; readonly pos: Position }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Node[]; readonly pos: Position };

/** Caps that keep a hostile expression from costing more than a few microseconds or the stack. */
export const MAX_EXPRESSION_LENGTH = 4096;
const MAX_DEPTH = 64;

const BINARY_POWER: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  in: 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};
const PREFIX_POWER = 7;
const COMPARISON = 4;
const KEYWORDS: Record<string, Literal> = { true: true, false: false, null: null };

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }

  private next(): Token {
    const t = this.tokens[this.i] as Token;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private expectOp(op: string, context: string): Token {
    const t = this.peek();
    if (t.kind === 'op' && t.text === op) return this.next();
    throw new ExpressionError(`expected "${op}" ${context}, found ${describe(t)}`, t.pos);
  }

  parseAll(): Node {
    if (this.peek().kind === 'eof') throw new ExpressionError('empty expression', this.peek().pos);
    const node = this.expression(0);
    const t = this.peek();
    if (t.kind !== 'eof') throw new ExpressionError(`unexpected ${describe(t)} after the end of the expression`, t.pos);
    return node;
  }

  private expression(minPower: number): Node {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression nested deeper than ${MAX_DEPTH} levels`, this.peek().pos);
    let left = this.prefix();
    for (;;) {
      const t = this.peek();
      const op = binaryOp(t);
      if (op === undefined) break;
      const power = BINARY_POWER[op] as number;
      if (power <= minPower) break;
      this.next();
      // Left-associative: the right side binds only tighter operators.
      const right = this.expression(power);
      if (power === COMPARISON && right.kind === 'binary' && BINARY_POWER[right.op] === COMPARISON) {
        throw new ExpressionError('comparisons cannot be chained; combine them with &&', right.pos);
      }
      if (power === COMPARISON && left.kind === 'binary' && BINARY_POWER[left.op] === COMPARISON) {
        throw new ExpressionError('comparisons cannot be chained; combine them with &&', t.pos);
      }
      left = { kind: 'binary', op, left, right, pos: t.pos };
    }
    this.depth--;
    return left;
  }

  private prefix(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { kind: 'literal', value: t.number as number, pos: t.pos };
      case 'string':
        return { kind: 'literal', value: t.text, pos: t.pos };
      case 'ident': {
        if (Object.hasOwn(KEYWORDS, t.text)) return { kind: 'literal', value: KEYWORDS[t.text] as Literal, pos: t.pos };
        if (t.text === 'in') throw new ExpressionError('"in" needs a value on its left', t.pos);
        const after = this.peek();
        if (after.kind === 'op' && after.text === '(') {
          if (t.text.includes('.')) throw new ExpressionError(`"${t.text}" is not a function (methods are not supported)`, t.pos);
          this.next();
          return { kind: 'call', name: t.text, args: this.list(')', 'to close the argument list'), pos: t.pos };
        }
        return { kind: 'ident', name: t.text, pos: t.pos };
      }
      case 'op':
        if (t.text === '(') {
          const inner = this.expression(0);
          this.expectOp(')', 'to close "("');
          return inner;
        }
        if (t.text === '[') return { kind: 'list', items: this.list(']', 'to close the list'), pos: t.pos };
        if (t.text === '!' || t.text === '-') {
          return { kind: 'unary', op: t.text, operand: this.expression(PREFIX_POWER), pos: t.pos };
        }
        throw new ExpressionError(`unexpected ${describe(t)}`, t.pos);
      case 'eof':
        throw new ExpressionError('unexpected end of expression', t.pos);
    }
  }

  /** Comma-separated expressions up to `close` (already past the opening bracket). */
  private list(close: string, context: string): Node[] {
    const items: Node[] = [];
    const first = this.peek();
    if (first.kind === 'op' && first.text === close) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.expression(0));
      const t = this.peek();
      if (t.kind === 'op' && t.text === ',') {
        this.next();
        continue;
      }
      this.expectOp(close, context);
      return items;
    }
  }
}

function binaryOp(t: Token): BinaryOp | undefined {
  if (t.kind === 'ident' && t.text === 'in') return 'in';
  if (t.kind === 'op' && Object.hasOwn(BINARY_POWER, t.text)) return t.text as BinaryOp;
  return undefined;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'string':
      return `string ${JSON.stringify(t.text)}`;
    case 'number':
      return `number ${t.text}`;
    default:
      return `"${t.text}"`;
  }
}

/** Parses an expression; throws ExpressionError with the position of the first problem. */
export function parseExpression(source: string): Node {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`, positionAt(source, MAX_EXPRESSION_LENGTH));
  }
  return new Parser(tokenize(source)).parseAll();
}
