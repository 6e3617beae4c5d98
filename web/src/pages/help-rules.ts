/**
 * #/help/rules: the rule editor's help, in the dashboard itself (the editor's hints link here, not
 * to a file of the source repository a user may never have). A short reference of the expression
 * language (the whole of it is docs/RULES.md) and the action types this platform offers, read from
 * `GET /api/rules/actions` so the list is always the running platform's.
 */
import { get } from '../api.js';
import { h } from '../dom.js';
import type { View } from '../main.js';
import type { ActionType } from './rule-actions.js';
import { errorText } from '../widgets/feed.js';

const SYNTAX: readonly (readonly [string, string])[] = [
  ['temperature > 30', 'a bare name is the message’s value of that key, else the device’s latest stored value'],
  ['batteryLevel < 10 && !shared.muted', 'shared.x, client.x, server.x read attributes of that scope'],
  ['avg(temperature, "10m") > 28', 'avg, min, max, sum, count over a duration or the last N messages'],
  ['rate(level, "5m") < -2', 'change per minute within the window'],
  ['!inside(latitude, longitude, attr("geofence"))', 'a point outside a polygon attribute (a geofence)'],
  ['zscore(vibration) > 4', 'streaming detectors: ewma, zscore, rzscore, surprise, cusum, pagehinkley, slope, timeTo'],
  ['"${deviceName} is at ${temperature} °C"', 'templates inside action parameters use the same language'],
];

export function rulesHelpPage(): View {
  const actions = h('dl', { class: 'help-actions' });
  const status = h('p', { class: 'hint', role: 'status' }, 'Loading action types…');
  get<{ items: ActionType[] }>('/api/rules/actions')
    .then(({ items }) => {
      status.textContent = '';
      el.dataset.loaded = 'true';
      actions.replaceChildren(...items.flatMap((a) => [h('dt', null, h('code', null, a.type), ` — ${a.title}`), h('dd', null, a.description ?? '')]));
    })
    .catch((err: unknown) => (status.textContent = errorText(err)));
  const el: HTMLElement = h(
    'section',
    { class: 'page help' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/rules' }, '← Rules')),
    h('h1', null, 'Writing rules'),
    h('p', null, 'A rule watches its devices (one device, a profile’s devices or all of them). On each trigger — telemetry, attributes, connectivity or a schedule — it evaluates its condition; when the condition holds (for the optional "for" duration) it runs its actions, once, until the condition stops holding.'),
    h('h2', null, 'Conditions'),
    h('p', null, 'Operators, loosest first: ||, &&, == !=, < <= > >= in, + -, * / %, prefix ! and -. Missing data is null and stays quiet: a comparison with null is false.'),
    h('table', { class: 'data' }, h('caption', { class: 'visually-hidden' }, 'Examples'), h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Example'), h('th', { scope: 'col' }, 'Meaning'))), h('tbody', null, SYNTAX.map(([code, text]) => h('tr', null, h('td', null, h('code', null, code)), h('td', null, text))))),
    h('h2', null, 'Actions'),
    status,
    actions,
    h('p', { class: 'hint' }, 'New rules are saved disabled: run a backtest on past data, then enable the rule.'),
  );
  return { title: 'Rule help', el };
}
