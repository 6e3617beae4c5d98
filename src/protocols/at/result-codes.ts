/**
 * Pieces of the 3GPP TS 27.005 text-mode syntax shared by the modem transport and the modem
 * emulator: parameter lists of result codes (comma-separated, strings in double quotes) and the
 * lines that end a command (final result codes, TS 27.007 §5.7 / TS 27.005 §3.2.5).
 */

/** Splits `"SM",3` or `"REC UNREAD","+4917",,"26/11/22,06:30:00+00"` into fields, quotes removed. */
export function splitParams(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

/** `+CMTI: "SM",3` → { name: '+CMTI', params: ['SM', '3'] }; undefined for other lines. */
export function resultCode(line: string): { name: string; params: string[] } | undefined {
  const m = /^(\+[A-Z]+):\s*(.*)$/.exec(line);
  return m ? { name: m[1] as string, params: splitParams(m[2] as string) } : undefined;
}

export type Final = { ok: true } | { ok: false; error: string };

/** A final result code ends the response of a command. */
export function finalResult(line: string): Final | undefined {
  if (line === 'OK') return { ok: true };
  if (line === 'ERROR' || line === 'NO CARRIER') return { ok: false, error: line };
  if (/^\+CM[SE] ERROR:/.test(line)) return { ok: false, error: line };
  return undefined;
}

/** TP-Status (3GPP TS 23.040 §9.2.3.15): 0x00–0x1F completed, 0x20–0x3F still trying, above failed. */
export function tpStatus(st: number): 'delivered' | 'pending' | 'failed' {
  if (st < 0x20) return 'delivered';
  if (st < 0x40) return 'pending';
  return 'failed';
}

/** Ctrl-Z ends the text of AT+CMGS, ESC cancels it (TS 27.005 §3.5.1). */
export const CTRL_Z = '\x1a';
export const ESC = '\x1b';
