/**
 * Audit log (admins): who did what, when and from where, newest first, filtered and paged on the
 * server (GET /api/audit). Details are the recorded JSON, shown as text in a <pre>.
 */
import { ApiError, isAdmin, type Page } from '../api.js';
import { listAudit, listUsers, type AuditEntry, type AuditFilter } from '../admin-api.js';
import { badge, field, h, replaceChildren, select } from '../dom.js';
import type { View } from '../main.js';
import { adminOnlyView } from './admin-only.js';

/** The API takes one action: exact, or a prefix ending in "." or " " (changes are "<METHOD> <route>"). */
const ACTIONS = [
  ['', 'All actions'],
  ['auth.', 'Sign-ins'],
  ['credentials.read', 'Credential reads'],
  ['POST ', 'Changes: create (POST)'],
  ['PUT ', 'Changes: replace (PUT)'],
  ['PATCH ', 'Changes: edit (PATCH)'],
  ['DELETE ', 'Changes: delete (DELETE)'],
  ['edge.', 'Edge configuration pushes'],
] as const;
const OUTCOMES = [
  ['', 'Any'],
  ['success', 'Success'],
  ['failure', 'Failure'],
  ['denied', 'Denied'],
] as const;
const RANGES = [
  ['', 'Any time'],
  ['3600000', 'Last hour'],
  ['86400000', 'Last 24 hours'],
  ['604800000', 'Last 7 days'],
  ['2592000000', 'Last 30 days'],
  ['custom', 'Custom…'],
] as const;
const LIMIT = 50;
const OUTCOME_BADGE: Record<string, string> = { success: 'ok', failure: 'bad', denied: 'pending' };

const FORBIDDEN = 'Only admins can read the audit log.';

/** A datetime-local value → epoch ms (local time), or undefined when empty or invalid. */
function localTime(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

export function auditPage(): View {
  if (!isAdmin()) return adminOnlyView('Audit log', FORBIDDEN);
  let offset = 0;
  let seq = 0;
  /** User ids → emails: the log records changes by user id. */
  const emails = new Map<string, string>();
  const actionSelect = select(ACTIONS, '', { id: 'audit-action' });
  const whoSelect = select([['', 'Anyone'], ['anonymous', 'Anonymous (failed sign-ins)']], '', { id: 'audit-actor' });
  const outcomeSelect = select(OUTCOMES, '', { id: 'audit-outcome' });
  const rangeSelect = select(RANGES, '', { id: 'audit-range' });
  const fromInput = h('input', { type: 'datetime-local', id: 'audit-from', step: 1 });
  const toInput = h('input', { type: 'datetime-local', id: 'audit-to', step: 1 });
  const custom = h('div', { class: 'toolbar custom-range', hidden: true }, field('From', fromInput), field('To', toInput));
  const tbody = h('tbody');
  const summary = h('p', { class: 'counts', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const prev = h('button', { type: 'button', onclick: () => go(Math.max(0, offset - LIMIT)) }, 'Previous');
  const next = h('button', { type: 'button', onclick: () => go(offset + LIMIT) }, 'Next');
  const pageInfo = h('span', { class: 'page-info' });

  function filter(): AuditFilter {
    const range = rangeSelect.value;
    const span = range && range !== 'custom' ? Number(range) : undefined;
    return {
      ...(actionSelect.value ? { action: actionSelect.value } : {}),
      ...(whoSelect.value ? { actor: whoSelect.value } : {}),
      ...(outcomeSelect.value ? { outcome: outcomeSelect.value } : {}),
      ...(span !== undefined ? { from: Date.now() - span } : {}),
      ...(range === 'custom' && localTime(fromInput.value) !== undefined ? { from: localTime(fromInput.value) } : {}),
      ...(range === 'custom' && localTime(toInput.value) !== undefined ? { to: localTime(toInput.value) } : {}),
      limit: LIMIT,
      offset,
    };
  }

  const who = (e: AuditEntry): string => e.actorName ?? emails.get(e.actor) ?? e.actor;
  /** A user target by email when known (the id stays in the details). */
  const target = (e: AuditEntry): string => [e.targetType, (e.targetType === 'users' && e.targetId !== null ? emails.get(e.targetId) : undefined) ?? e.targetId].filter((p) => p !== null).join(' ') || '—';

  function row(e: AuditEntry): HTMLTableRowElement {
    const when = new Date(e.ts);
    const details =
      e.details === undefined
        ? '—'
        : h('details', null, h('summary', null, 'Details', h('span', { class: 'visually-hidden' }, ` of ${e.action} at ${when.toLocaleString()}`)), h('pre', { class: 'audit-details' }, JSON.stringify(e.details, null, 2)));
    return h(
      'tr',
      { 'data-audit-id': e.id, 'data-action': e.action },
      h('td', { 'data-label': 'Time', class: 'when' }, h('time', { datetime: when.toISOString() }, when.toLocaleString())),
      h('td', { 'data-label': 'Who' }, who(e)),
      h('td', { 'data-label': 'Action' }, h('code', null, e.action)),
      h('td', { 'data-label': 'Outcome' }, badge(e.outcome, OUTCOME_BADGE[e.outcome] ?? 'offline')),
      h('td', { 'data-label': 'Target' }, target(e)),
      h('td', { 'data-label': 'Address' }, e.address ?? '—'),
      h('td', { 'data-label': 'Details' }, details),
    );
  }

  async function load(): Promise<void> {
    const mine = ++seq;
    error.textContent = '';
    try {
      const page: Page<AuditEntry> = await listAudit(filter());
      if (mine !== seq) return;
      summary.textContent = `${page.total} entr${page.total === 1 ? 'y' : 'ies'}`;
      replaceChildren(tbody, page.items.length ? page.items.map(row) : h('tr', null, h('td', { class: 'empty', colspan: 7 }, 'No entries match.')));
      pageInfo.textContent = page.total ? `${offset + 1}–${offset + page.items.length} of ${page.total}` : '';
      prev.disabled = offset === 0;
      next.disabled = offset + LIMIT >= page.total;
      el.dataset.loaded = 'true';
    } catch (err) {
      if (mine === seq) error.textContent = err instanceof ApiError && err.status === 403 ? FORBIDDEN : err instanceof Error ? err.message : String(err);
    }
  }
  function go(o: number): void {
    offset = o;
    void load();
  }
  for (const control of [actionSelect, whoSelect, outcomeSelect, fromInput, toInput]) control.addEventListener('change', () => go(0));
  rangeSelect.addEventListener('change', () => {
    custom.hidden = rangeSelect.value !== 'custom';
    go(0);
  });

  const el = h(
    'section',
    { class: 'page audit-page' },
    h('h1', null, 'Audit log'),
    h('p', { class: 'hint' }, 'Sign-ins, credential reads, every change made through the API and configuration pushes to edges, newest first.'),
    h(
      'form',
      { class: 'toolbar', 'aria-label': 'Filter the audit log', onsubmit: (e: Event) => e.preventDefault() },
      field('Action', actionSelect),
      field('Who', whoSelect),
      field('Outcome', outcomeSelect),
      field('Time', rangeSelect),
      h('button', { type: 'button', onclick: () => go(0) }, 'Refresh'),
    ),
    custom,
    summary,
    error,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data responsive audit' },
        h('caption', { class: 'visually-hidden' }, 'Audit log entries, newest first'),
        h('thead', null, h('tr', null, ['Time', 'Who', 'Action', 'Outcome', 'Target', 'Address', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ),
    ),
    h('div', { class: 'pager' }, prev, pageInfo, next),
  );
  // Names first (changes are recorded by user id), then the entries; the log works without names.
  void listUsers()
    .then((users) => {
      for (const u of users) {
        emails.set(u.id, u.email);
        whoSelect.append(h('option', { value: u.id }, u.email));
      }
    })
    .catch(() => undefined)
    .finally(() => void load());
  return { title: 'Audit log', el };
}
