/**
 * GET /api/cluster (issue 14, "Operations"): the nodes and partition owners, administrators only;
 * /readyz names the dependency that is down. The single-node ClusterView answers here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SingleNodeClusterView } from '../../src/services/cluster-view.js';
import type { ReadinessReport } from '../../src/services/readiness.js';
import { startTestApi, type TestApi } from './helpers.js';

describe('GET /api/cluster and /readyz dependency checks', () => {
  let api: TestApi;
  let report: ReadinessReport = { ready: true, checks: { postgres: 'ok', nats: 'ok' } };
  before(async () => {
    const view = new SingleNodeClusterView({
      name: 'plant-a',
      clustered: true,
      nodeId: 'node-1',
      partitions: 4,
      clock: { now: () => 1_700_000_000_000 },
      addresses: () => [{ name: 'http', protocol: 'tcp', host: '127.0.0.1', port: 8080, url: 'http://127.0.0.1:8080' }],
      ready: async () => report.ready,
    });
    api = await startTestApi({ deps: { cluster: { view, nodeId: 'node-1' }, dependencies: async () => report } });
  });
  after(() => api.close());

  it('shows this node, its addresses and readiness, and every partition owned by it', async () => {
    const res = await api.call('GET', '/api/cluster');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {
      name: 'plant-a',
      clustered: true,
      nodeId: 'node-1',
      nodes: [{ id: 'node-1', addresses: [{ name: 'http', url: 'http://127.0.0.1:8080' }], lastSeen: 1_700_000_000_000, ready: true, self: true }],
      partitions: [0, 1, 2, 3].map((partition) => ({ partition, owner: 'node-1', epoch: null, lag: null })),
    });
  });

  it('authorization: administrators only (sysadmin, tenant-admin); operators, viewers and anonymous callers are refused', async () => {
    const cases: [string, number][] = [['tenant-admin', 200], ['operator', 403], ['viewer', 403]];
    for (const [role, expected] of cases) {
      const email = `${role}@cluster.test`;
      const user = await api.auth.createUser({ email, password: `${role} password 1`, role });
      const { token } = await api.auth.issueToken(user);
      const res = await fetch(`${api.url}/api/cluster`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, expected, role);
    }
    assert.equal((await fetch(`${api.url}/api/cluster`)).status, 401);
  });

  it('/readyz: 503 naming the dependency that is down, 200 when it is back; /healthz stays 200', async () => {
    const ok = await fetch(`${api.url}/readyz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ready', checks: { postgres: 'ok', nats: 'ok' } });
    report = { ready: false, checks: { postgres: 'down', nats: 'ok' } };
    const down = await fetch(`${api.url}/readyz`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'not ready', checks: { postgres: 'down', nats: 'ok' } });
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200, 'liveness does not depend on PostgreSQL');
    assert.equal((await api.call('GET', '/api/cluster')).body.nodes[0].ready, false);
    report = { ready: true, checks: { postgres: 'ok', nats: 'ok' } };
    assert.equal((await fetch(`${api.url}/readyz`)).status, 200);
  });
});
