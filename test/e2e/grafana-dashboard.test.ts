/**
 * docs/grafana/continuum.json is kept true: it is a well-formed Grafana dashboard whose queries
 * name only metrics a whole platform's /metrics exposes (a renamed metric would leave a panel
 * silently empty), and every continuum_* metric family has a panel.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { registerPartitionMetrics } from '../../src/adapters/metrics/cluster.js';
import { metricsText, startTestPlatform, type TestPlatform } from '../support/platform.js';

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync('docs/grafana/continuum.json', 'utf8')) as Dashboard;

let tp: TestPlatform;
/** Every series name the platform exposes (a histogram's _bucket/_sum/_count included), by family. */
const exposed = new Set<string>();
const families = new Set<string>();

before(async () => {
  tp = await startTestPlatform();
  const text = await metricsText(tp.baseUrl);
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    families.add(name);
    exposed.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) exposed.add(name + suffix);
  }
  assert.ok(families.has('continuum_messages_in_total'), 'the platform exposes its metrics');
  // A cluster node (NATS + PostgreSQL) also exposes the partition-ownership families: registered here as it registers them.
  const cluster = new Registry();
  registerPartitionMetrics(cluster, { partitions: 1, epochOf: () => 1, liveNodes: () => 1 });
  for (const m of (await cluster.getMetricsAsJSON()) as { name: string }[]) {
    families.add(m.name);
    exposed.add(m.name);
  }
});

after(async () => {
  await tp?.stop();
});

/** Metric names in a PromQL expression (every selector is written `name{…}` in this dashboard) or a `label_values(name, label)` variable query. */
function metricsIn(expr: string): string[] {
  const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1] ?? '');
  const bare = [...expr.matchAll(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/g)].map((m) => m[1] ?? '');
  return [...selectors, ...bare];
}

const queries = (): { where: string; expr: string }[] => [
  ...(dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title ?? ''}" ${t.refId ?? ''}`, expr: t.expr ?? '' }))),
  ...(dashboard.templating?.list ?? []).filter((v) => v.type === 'query').map((v) => ({ where: `variable $${v.name}`, expr: v.definition ?? '' })),
];

test('the dashboard is a well-formed Grafana dashboard over a Prometheus data source variable', () => {
  assert.equal(dashboard.uid, 'continuum-overview');
  assert.ok(dashboard.title);
  const panels = dashboard.panels ?? [];
  assert.ok(panels.length > 10);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  assert.ok(dashboard.templating?.list?.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'));
  for (const p of panels) {
    const g = p.gridPos;
    assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `panel ${p.title ?? ''}: inside the 24-column grid`);
    if (p.type === 'row') continue;
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel ${p.title ?? ''}`);
    assert.ok((p.targets ?? []).length > 0, `panel ${p.title ?? ''}: has queries`);
    for (const t of p.targets ?? []) {
      assert.ok(t.expr && t.expr.trim().length > 0, `panel ${p.title ?? ''}: query ${t.refId ?? ''}`);
      assert.equal(t.datasource?.uid, '${datasource}');
    }
  }
});

test('every metric the dashboard queries is exposed by /metrics', () => {
  let count = 0;
  for (const { where, expr } of queries()) {
    const names = metricsIn(expr);
    assert.ok(names.length > 0, `${where}: names a metric (${expr})`);
    for (const name of names) {
      count++;
      assert.ok(exposed.has(name), `${where}: ${name} is not in /metrics`);
    }
  }
  assert.ok(count > 30);
});

test('every continuum_* metric family has a panel', () => {
  const used = new Set(queries().flatMap(({ expr }) => metricsIn(expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
  const missing = [...families].filter((f) => f.startsWith('continuum_') && !used.has(f) && !used.has(`${f}_bucket`));
  assert.deepEqual(missing, []);
});
