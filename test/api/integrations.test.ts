/**
 * /api/integrations: admins write, operators read, secrets never answered (nor kept in the
 * audit log), configs checked at the boundary; and the `continuum integration` CLI over it.
 * The remote is a port nothing listens on: these tests are about the API, not the link.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ADMIN, apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';
import { runCli } from '../support/cli.js';

// The remotes run on this host: the outbound policy refuses loopback unless allowed.
const LOCAL_PEERS = { outbound: { allow: ['127.0.0.1'] } };

const SECRET = 'remote-password-9f3e';
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const OPERATOR = { email: 'operator@test.local', password: 'operator-password-1' };

describe('/api/integrations', () => {
  let p: TestPlatform;
  let operator: ApiClient;
  before(async () => {
    p = await startTestPlatform({ config: LOCAL_PEERS });
    assert.equal((await p.api.request('POST', '/api/users', { ...OPERATOR, role: 'user' })).status, 201);
    operator = await apiClient(p.baseUrl, OPERATOR);
  });
  after(async () => {
    await p.stop();
  });

  const body = (name: string) => ({
    type: 'mqtt-bridge',
    name,
    config: { url: 'mqtts://127.0.0.1:9', username: 'bridge', password: SECRET, topic: 'x/{deviceName}', tls: { privateKey: KEY, rejectUnauthorized: false } },
  });

  it('admin creates; the answer, GET and list never hold the password or the private key; operators read', async () => {
    const created = await p.api.request<{ id: string; secretsSet: string[]; config: Record<string, unknown> }>('POST', '/api/integrations', body('secret-holder'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.secretsSet.sort(), ['password', 'tls.privateKey']);
    assert.equal(created.body.config.username, 'bridge');
    for (const res of [created, await p.api.request('GET', `/api/integrations/${created.body.id}`), await p.api.request('GET', '/api/integrations'), await operator.request('GET', '/api/integrations'), await operator.request('GET', `/api/integrations/${created.body.id}`)]) {
      assert.equal(res.status === 200 || res.status === 201, true);
      const text = JSON.stringify(res.body);
      assert.ok(!text.includes(SECRET) && !text.includes('PRIVATE KEY'), `secret answered: ${text}`);
    }
    const audit = await p.api.request('GET', '/api/audit?limit=100');
    assert.ok(!JSON.stringify(audit.body).includes(SECRET), 'password in the audit log');
    assert.ok(JSON.stringify(audit.body).includes('POST /api/integrations'), 'creation audited');
  });

  it('operators may not create or delete (403); unknown ids are 404', async () => {
    assert.equal((await operator.request('POST', '/api/integrations', body('by-operator'))).status, 403);
    const created = await p.api.request<{ id: string }>('POST', '/api/integrations', body('to-delete'));
    assert.equal((await operator.request('DELETE', `/api/integrations/${created.body.id}`)).status, 403);
    assert.equal((await p.api.request('DELETE', `/api/integrations/${created.body.id}`)).status, 204);
    assert.equal((await p.api.request('GET', `/api/integrations/${created.body.id}`)).status, 404);
    assert.equal((await p.api.request('DELETE', `/api/integrations/${created.body.id}`)).status, 404);
  });

  it('refuses configs that do not fit (400) and a second integration of the same name (409)', async () => {
    const bad = async (b: unknown) => (await p.api.request<{ message: string }>('POST', '/api/integrations', b)).status;
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'no-url', config: {} }), 400);
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'url-scheme', config: { url: 'http://x' } }), 400);
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'extra', config: { url: 'mqtt://x', surprise: 1 } }), 400);
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'wild', config: { url: 'mqtt://x', topic: 'a/#' } }), 400);
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'in-no-var', config: { url: 'mqtt://x', direction: 'in', inTopic: 'a/b' } }), 400);
    assert.equal(await bad({ type: 'nats', name: 'creds-in-url', config: { servers: ['nats://u:p@x:4222'], stream: 'S', subjectPrefix: 's' } }), 400);
    assert.equal(await bad({ type: 'amqp', name: 'creds-in-url', config: { url: 'amqp://guest:guest@x', exchange: 'e' } }), 400);
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'bad-pem', config: { url: 'mqtts://x', tls: { privateKey: 'not a key' } } }), 400);
    assert.equal(await bad({ type: 'kafka', name: 'kafka', config: {} }), 400);
    assert.equal(await bad({ type: 'mqtt-bridge', name: 'bad-filter', config: { url: 'mqtt://x' }, filter: { events: ['everything'] } }), 400);
    assert.equal((await p.api.request('POST', '/api/integrations', body('twice'))).status, 201);
    assert.equal(await bad(body('twice')), 409);
  });

  it('CLI: integration create, list, status and delete; status shows no secret', async () => {
    const auth = ['--url', p.baseUrl, '--email', ADMIN.email, '--password', ADMIN.password];
    const config = JSON.stringify({ url: 'mqtt://127.0.0.1:9', password: SECRET });
    const created = await runCli(['integration', 'create', '--type', 'mqtt-bridge', '--name', 'from-cli', '--config', config, '--json', ...auth]);
    assert.equal(created.code, 0, created.stderr);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const list = await runCli(['integration', 'list', ...auth]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /from-cli\s+mqtt-bridge/);
    const status = await runCli(['integration', 'status', id, '--url', p.baseUrl, '--email', OPERATOR.email, '--password', OPERATOR.password]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /secrets set: password/);
    assert.ok(!status.stdout.includes(SECRET));
    const denied = await runCli(['integration', 'delete', id, '--url', p.baseUrl, '--email', OPERATOR.email, '--password', OPERATOR.password]);
    assert.notEqual(denied.code, 0);
    const deleted = await runCli(['integration', 'delete', id, ...auth]);
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});
