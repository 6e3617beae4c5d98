/**
 * Text → short_message bytes for SMPP 3.4 submit_sm: the GSM 03.38 default alphabet (data_coding
 * 0x00, one septet per octet, unpacked, as SMPP carries it, §5.2.19) when every character has a
 * GSM code, otherwise UCS2 (data_coding 0x08, UTF-16BE). Texts over one SMS are split into
 * concatenated parts with a User Data Header (3GPP TS 23.040 §9.2.3.24.1, 8-bit reference) and
 * esm_class UDHI, rather than one message_payload TLV: every SMSC and handset understands UDH,
 * while message_payload support is optional for SMSCs (SMPP 3.4 §5.3.2.32).
 */

/** GSM 03.38 basic character set, indexed by code (0x1B is the escape to the extension table). */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** Extension table: character → code after 0x1B. */
const EXTENDED: Record<string, number> = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };

const BASIC_CODES = new Map<string, number>([...BASIC].map((c, i) => [c, i] as const).filter(([c]) => c !== '\u001b'));

export const DATA_CODING_GSM = 0x00;
export const DATA_CODING_UCS2 = 0x08;

export interface EncodedText {
  readonly dataCoding: number;
  /** short_message of each part, UDH included when there is more than one. */
  readonly parts: Buffer[];
}

/** The GSM septets of each character, or undefined when a character has none. */
function gsmUnits(text: string): number[][] | undefined {
  const units: number[][] = [];
  for (const ch of text) {
    const basic = BASIC_CODES.get(ch);
    if (basic !== undefined) units.push([basic]);
    else if (EXTENDED[ch] !== undefined) units.push([0x1b, EXTENDED[ch]]);
    else return undefined;
  }
  return units;
}

/** Groups units into parts of at most `max` octets without cutting a unit (escape pair, surrogate pair). */
function pack(units: number[][], max: number): Buffer[] {
  const parts: Buffer[] = [];
  let current: number[] = [];
  for (const unit of units) {
    if (current.length + unit.length > max) {
      parts.push(Buffer.from(current));
      current = [];
    }
    current.push(...unit);
  }
  parts.push(Buffer.from(current));
  return parts;
}

/** 3GPP TS 23.040 limits: 160 septets or 140 octets; 6 octets of UDH per part when concatenated. */
const SINGLE = { gsm: 160, ucs2: 140 };
const CONCAT = { gsm: 153, ucs2: 134 };
const MAX_PARTS = 255;

/**
 * Encodes `text` for submit_sm. `reference` is the concatenation reference shared by the parts
 * (0–255); the receiving handset reassembles parts with the same reference and sender.
 */
export function encodeText(text: string, reference: number): EncodedText {
  const gsm = gsmUnits(text);
  const dataCoding = gsm ? DATA_CODING_GSM : DATA_CODING_UCS2;
  const units = gsm ?? [...text].map((ch) => [...Buffer.from(ch, 'utf16le').swap16()]);
  const total = units.reduce((n, u) => n + u.length, 0);
  if (total <= (gsm ? SINGLE.gsm : SINGLE.ucs2)) return { dataCoding, parts: [Buffer.from(units.flat())] };
  const bodies = pack(units, gsm ? CONCAT.gsm : CONCAT.ucs2);
  if (bodies.length > MAX_PARTS) throw new RangeError(`text needs ${bodies.length} SMS parts (at most ${MAX_PARTS})`);
  const parts = bodies.map((body, i) => Buffer.concat([Buffer.from([0x05, 0x00, 0x03, reference & 0xff, bodies.length, i + 1]), body]));
  return { dataCoding, parts };
}

/** Inverse of one part's encoding (tests, logs): strips a UDH when `udhi` is set. */
export function decodeText(bytes: Buffer, dataCoding: number, udhi: boolean): string {
  const body = udhi ? bytes.subarray((bytes[0] ?? 0) + 1) : bytes;
  if (dataCoding === DATA_CODING_UCS2) return Buffer.from(body).swap16().toString('utf16le');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const code = body[i] ?? 0;
    if (code === 0x1b && i + 1 < body.length) {
      const ext = body[++i];
      out += Object.keys(EXTENDED).find((k) => EXTENDED[k] === ext) ?? ' ';
    } else out += BASIC[code] ?? ' ';
  }
  return out;
}
