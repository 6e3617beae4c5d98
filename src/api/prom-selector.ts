/**
 * The part of PromQL the Grafana data source needs from Continuum: one instant vector selector,
 * `key{device="name"}` (or `{__name__="any key", device_id="…"}`), equality matchers only. The
 * metric name is a telemetry key; the labels pick the device. Anything else (functions,
 * operators, regex matchers) is refused with the reason, as Prometheus answers bad_data.
 */

export interface Selector {
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const MAX_QUERY = 1024;

function unquote(text: string, at: number): { value: string; end: number } {
  const quote = text[at];
  if (quote !== '"' && quote !== "'") throw new Error(`expected a quoted value at ${at}`);
  let value = '';
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      const n = text[++i] as string;
      value += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else if (c === quote) return { value, end: i + 1 };
    else value += c;
  }
  throw new Error('unterminated string');
}

export function parseSelector(query: string): Selector {
  if (query.length > MAX_QUERY) throw new Error(`query longer than ${MAX_QUERY} characters`);
  const q = query.trim();
  const name = NAME.exec(q);
  let i = name ? name[0].length : 0;
  const labels: Record<string, string> = {};
  let key = name?.[0];
  if (q[i] === '{') {
    i++;
    for (;;) {
      while (q[i] === ' ' || q[i] === ',') i++;
      if (q[i] === '}') {
        i++;
        break;
      }
      const label = LABEL.exec(q.slice(i));
      if (!label) throw new Error(`expected a label name at ${i}`);
      i += label[0].length;
      while (q[i] === ' ') i++;
      if (q[i] !== '=' || q[i + 1] === '~' || q[i + 1] === '=') throw new Error(`only = matchers are supported (label ${label[0]})`);
      i++;
      while (q[i] === ' ') i++;
      const { value, end } = unquote(q, i);
      i = end;
      if (label[0] === '__name__') key = value;
      else labels[label[0]] = value;
    }
  }
  if (i !== q.length) throw new Error(`unsupported PromQL at ${i}: only a selector like key{device="name"} is`);
  if (!key) throw new Error('the selector names no metric (the telemetry key)');
  return { key, labels };
}
