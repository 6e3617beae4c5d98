/**
 * Byte-level mutations applied on top of well-formed messages: a grammar gets the fuzzer past the
 * first checks of a parser, the mutations then break it in the ways a network or a hostile peer
 * does (cut short, flipped bits, lying length fields, bytes inserted or dropped).
 *
 * Positions are fractions of the message length, so one mutation list applies to any message and
 * fast-check can shrink the message and its mutations independently.
 */
import fc from 'fast-check';

export type Mutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  /** Overwrites one of the first bytes, where both MQTT and CoAP keep their length fields. */
  | { readonly kind: 'header'; readonly index: number; readonly byte: number };

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const interesting = fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x0d, 0x0f, 0xf0);
const anyByte = fc.oneof(fc.integer({ min: 0, max: 255 }), interesting);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({ kind: fc.constant('flip' as const), at: fraction, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fraction, byte: anyByte }),
  fc.record({ kind: fc.constant('insert' as const), at: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fraction, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('header' as const), index: fc.integer({ min: 0, max: 5 }), byte: anyByte }),
);

/** Zero mutations most of the time (the valid message must be tried too), up to four otherwise. */
export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Mutation[]>([]) },
  { weight: 3, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) },
);

export function applyMutation(input: Buffer, m: Mutation): Buffer {
  const at = m.kind === 'header' ? m.index : Math.floor(m.at * (input.length + (m.kind === 'insert' ? 1 : 0)));
  switch (m.kind) {
    case 'truncate':
      return input.subarray(0, at);
    case 'flip':
    case 'set':
    case 'header': {
      if (at >= input.length) return input;
      const out = Buffer.from(input);
      out[at] = m.kind === 'flip' ? (out[at] as number) ^ (1 << m.bit) : m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([input.subarray(0, at), m.bytes, input.subarray(at)]);
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + m.count)]);
  }
}

export function applyMutations(input: Buffer, mutations: readonly Mutation[]): Buffer {
  return mutations.reduce(applyMutation, input);
}

/** A message from `base`, then mutated; the value keeps both so a counterexample shows them. */
export function mutated(base: fc.Arbitrary<Buffer>): fc.Arbitrary<{ base: Buffer; mutations: Mutation[]; bytes: Buffer }> {
  return fc.tuple(base, mutationsArb).map(([b, mutations]) => ({ base: b, mutations, bytes: applyMutations(b, mutations) }));
}
