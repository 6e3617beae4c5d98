/**
 * Device-to-device MQTT grants (issue 15, item 5): a tenant admin lets a device (or a group of
 * devices, or every device of the tenant) publish to or subscribe to topic filters beyond its own
 * namespace. A grant's topic is a template with policy variables in the style of AWS IoT:
 *
 *   ${device.name}       the connecting device's name
 *   ${device.id}         the connecting device's id
 *   ${device.attr.KEY}   the connecting device's server or shared attribute KEY (read at connect)
 *   ${group:NAME}        one filter per device name in the tenant's group NAME
 *
 * Every substituted value is percent-encoded like a device namespace (`/ + # %` and NUL), so a
 * device name or attribute can never add a level or a wildcard to the filter. Pure: parsing,
 * validation and expansion; the broker's ACL and the service that resolves the variables use it.
 */
export const GRANT_ACTIONS = ['publish', 'subscribe'] as const;
export type GrantAction = (typeof GRANT_ACTIONS)[number];

/** Who a grant applies to. */
export type GrantSubject = { readonly deviceId: string } | { readonly group: string } | { readonly all: true };

export interface MqttGrant {
  readonly id: string;
  readonly tenantId: string;
  readonly subject: GrantSubject;
  readonly actions: readonly GrantAction[];
  /** A topic filter template (see the variables above). */
  readonly topic: string;
  readonly createdAt: number;
}

/** The most filters one template may expand to (a `${group:…}` of a large group); beyond: refused at connect. */
export const MAX_EXPANSION = 1000;

/** One piece of a parsed template: literal text or a variable. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'name' }
  | { readonly kind: 'id' }
  | { readonly kind: 'attr'; readonly key: string }
  | { readonly kind: 'group'; readonly group: string };

export class TemplateError extends Error {
  /** 0-based character position in the template where the problem starts. */
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
  }
}

const KEY = /^[A-Za-z0-9_.:-]{1,255}$/;

function parseVariable(body: string, position: number): TemplatePart {
  if (body === 'device.name') return { kind: 'name' };
  if (body === 'device.id') return { kind: 'id' };
  if (body.startsWith('device.attr.')) {
    const key = body.slice('device.attr.'.length);
    if (!KEY.test(key)) throw new TemplateError(`attribute key "${key}" is not valid (letters, digits, _ . : -)`, position);
    return { kind: 'attr', key };
  }
  if (body.startsWith('group:')) {
    const group = body.slice('group:'.length);
    if (group.length === 0 || group.length > 255 || /[\u0000-\u001f}]/.test(group)) throw new TemplateError('group name must be 1..255 printable characters', position);
    return { kind: 'group', group };
  }
  throw new TemplateError(`unknown variable "\${${body}}" (known: \${device.name}, \${device.id}, \${device.attr.KEY}, \${group:NAME})`, position);
}

/** Splits a template into text and variables; throws TemplateError with the position of the fault. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < template.length) {
    const start = template.indexOf('${', i);
    if (start < 0) {
      parts.push({ kind: 'text', text: template.slice(i) });
      break;
    }
    if (start > i) parts.push({ kind: 'text', text: template.slice(i, start) });
    const end = template.indexOf('}', start + 2);
    if (end < 0) throw new TemplateError('"${" without a closing "}"', start);
    parts.push(parseVariable(template.slice(start + 2, end), start));
    i = end + 1;
  }
  return parts;
}

/** Percent-encodes what would let a value reach into another level or act as a wildcard (as deviceNamespace does). */
export function escapeTopicValue(value: string): string {
  return value.replace(/[%/+#\u0000]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A topic filter as MQTT accepts it: non-empty, `#` only as the whole last level, `+` only as a whole level, no NUL. */
export function isTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65535 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => (!level.includes('#') || (level === '#' && i === levels.length - 1)) && (!level.includes('+') || level === '+'));
}

/** The values a template is expanded with for one connecting device. */
export interface TemplateValues {
  readonly deviceName: string;
  readonly deviceId: string;
  /** Attribute values as text; a missing key makes the template expand to nothing. */
  readonly attributes: ReadonlyMap<string, string>;
  /** Member device names per group named in the template. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
}

/** Every filter a template stands for with these values (none when an attribute is missing or a group empty). */
export function expandTemplate(parts: readonly TemplatePart[], values: TemplateValues): string[] {
  let out = [''];
  for (const part of parts) {
    let choices: readonly string[];
    switch (part.kind) {
      case 'text':
        choices = [part.text];
        break;
      case 'name':
        choices = [escapeTopicValue(values.deviceName)];
        break;
      case 'id':
        choices = [escapeTopicValue(values.deviceId)];
        break;
      case 'attr': {
        const v = values.attributes.get(part.key);
        choices = v === undefined ? [] : [escapeTopicValue(v)];
        break;
      }
      case 'group':
        choices = (values.groups.get(part.group) ?? []).map(escapeTopicValue);
        break;
    }
    if (choices.length === 0) return [];
    if (out.length * choices.length > MAX_EXPANSION) throw new TemplateError(`expands to more than ${MAX_EXPANSION} filters`, 0);
    out = choices.length === 1 ? out.map((prefix) => prefix + choices[0]) : out.flatMap((prefix) => choices.map((c) => prefix + c));
  }
  return out.filter(isTopicFilter);
}

/** The attribute keys and group names a template needs resolved. */
export function templateNeeds(parts: readonly TemplatePart[]): { attributes: string[]; groups: string[] } {
  const attributes = new Set<string>();
  const groups = new Set<string>();
  for (const p of parts) {
    if (p.kind === 'attr') attributes.add(p.key);
    else if (p.kind === 'group') groups.add(p.group);
  }
  return { attributes: [...attributes], groups: [...groups] };
}

/**
 * Checks a template as given to the API: syntax and known variables (TemplateError with the
 * position), then that it is a valid topic filter once its variables hold sample values, and that
 * it does not reach the broker's reserved topics (`$…`) or the device API (`v1/…`, intercepted
 * before any ACL, so a grant there would only mislead).
 */
export function validateTemplate(template: string): TemplatePart[] {
  if (template.length === 0 || template.length > 1024) throw new TemplateError('topic must be 1..1024 characters', 0);
  const parts = parseTemplate(template);
  const sample: TemplateValues = {
    deviceName: 'sample-device',
    deviceId: 'sample-id',
    attributes: new Map(templateNeeds(parts).attributes.map((k) => [k, 'sample'])),
    groups: new Map(templateNeeds(parts).groups.map((g) => [g, ['sample-member']])),
  };
  const [filter] = expandTemplate(parts, sample);
  const first = parts[0];
  const literal = first?.kind === 'text' ? first.text : '';
  if (literal.startsWith('$')) throw new TemplateError('topics starting with "$" are reserved', 0);
  if (literal.startsWith('v1/') || literal === 'v1') throw new TemplateError('device API topics (v1/…) are answered by the platform, not routed', 0);
  if (filter === undefined || !isTopicFilter(filter)) throw new TemplateError('not a valid MQTT topic filter ("#" only as the whole last level, "+" only as a whole level)', wildcardFault(template));
  return parts;
}

/** Where a misplaced wildcard sits in the template (variables never add one: their values are escaped). */
function wildcardFault(template: string): number {
  let levelStart = 0;
  for (let i = 0; i <= template.length; i++) {
    if (i < template.length && template[i] !== '/') continue;
    const level = template.slice(levelStart, i);
    const hash = level.indexOf('#');
    if (hash >= 0 && (level !== '#' || i !== template.length)) return levelStart + hash;
    const plus = level.indexOf('+');
    if (plus >= 0 && level !== '+') return levelStart + plus;
    levelStart = i + 1;
  }
  return 0;
}

/** Whether a grant applies to this device, given the groups it belongs to. */
export function grantApplies(grant: MqttGrant, deviceId: string, memberOf: (group: string) => boolean): boolean {
  const s = grant.subject;
  if ('all' in s) return s.all;
  if ('deviceId' in s) return s.deviceId === deviceId;
  return memberOf(s.group);
}

/** The filters one connection was granted beyond its own namespace, compiled at CONNECT. */
export interface GrantedFilters {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

export const NO_GRANTS: GrantedFilters = Object.freeze({ publish: Object.freeze([]), subscribe: Object.freeze([]) });
