/**
 * Webhook SSRF (issue 12, item 8): a rule's webhook URL templated from device telemetry must not
 * reach loopback, private or link-local addresses, nor the platform's own ports, unless the
 * config allow-lists them. Real HTTP receivers on 127.0.0.1 and the real node:http network
 * adapter; the only stand-in is a name table for host names that real DNS cannot answer.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeOutboundNetwork } from '../../../src/adapters/outbound/node/index.js';
import { OutboundPolicy, type RefusalReason } from '../../../src/domain/outbound/policy.js';
import type { OutboundNetwork, PinnedHttpRequest } from '../../../src/ports.js';
import { OutboundService } from '../../../src/services/outbound.js';
import { fixture, silent, type Fixture } from './fixture.js';

interface Receiver {
  readonly server: Server;
  readonly port: number;
  readonly hits: { url: string; host: string | undefined; body: string }[];
}

/** An HTTP receiver on 127.0.0.1 recording what reaches it; `answer` may redirect. */
async function receiver(answer: (req: IncomingMessage) => { status: number; location?: string } = () => ({ status: 200 })): Promise<Receiver> {
  const hits: Receiver['hits'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', host: req.headers.host, body });
      const { status, location } = answer(req);
      res.writeHead(status, location ? { location } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

interface Harness {
  readonly f: Fixture;
  readonly sent: PinnedHttpRequest[];
  readonly refused: RefusalReason[];
  readonly warnings: string[];
}

/**
 * The rule fixture with the real outbound network. `names` answers for host names as a DNS
 * server would (a name that resolves to loopback); `ownPorts` plays the platform's listeners.
 */
async function harness(options: { allow?: string[]; names?: Record<string, string[]>; ownPorts?: number[] } = {}): Promise<Harness> {
  const real = createNodeOutboundNetwork();
  const sent: PinnedHttpRequest[] = [];
  const network: OutboundNetwork = {
    resolve: async (name) => options.names?.[name] ?? real.resolve(name),
    isLocalAddress: (a) => real.isLocalAddress(a),
    send: (req) => {
      sent.push(req);
      return real.send(req);
    },
  };
  const refused: RefusalReason[] = [];
  const warnings: string[] = [];
  const logger = { ...silent, warn: (obj: object, msg?: string) => void warnings.push(`${msg} ${JSON.stringify(obj)}`), child: () => logger };
  const policy = new OutboundPolicy({ allow: options.allow ?? [], ownPorts: () => options.ownPorts ?? [], isLocalAddress: (a) => real.isLocalAddress(a) });
  const outbound = new OutboundService({ network, policy, logger, metrics: { refused: (r) => void refused.push(r) } });
  return { f: await fixture({ outbound }), sent, refused, warnings };
}

/** A rule whose webhook URL comes from the device's `target` telemetry; sends it and returns the rule errors. */
async function fireAt(h: Harness, target: string, path = '/hook'): Promise<string[]> {
  const d = await h.f.device(`dev-${Math.random().toString(36).slice(2)}`);
  await h.f.rule({ deviceId: d.id, condition: 'alert == true', actions: [{ type: 'webhook', url: `http://\${target}${path}`, body: { device: '${deviceName}' } }] });
  const before = h.f.errors.length;
  await h.f.telemetry(d, { target, alert: true });
  return h.f.errors.slice(before).map((e) => e.message);
}

describe('webhook outbound policy', () => {
  let victim: Receiver;
  let h: Harness | undefined;
  before(async () => {
    victim = await receiver();
  });
  after(() => victim.server.close());
  afterEach(async () => {
    await h?.f.stop();
    h = undefined;
  });

  it('regression: a webhook templated from device telemetry reaches a loopback service', async () => {
    h = await harness();
    const errors = await fireAt(h, `127.0.0.1:${victim.port}`);
    assert.equal(victim.hits.length, 0, 'nothing reached the loopback receiver');
    assert.equal(h.sent.length, 0, 'no connection was attempted');
    assert.match(errors[0] ?? '', /outbound connection refused by policy: http:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address; allow it with an outbound.allow entry/);
    assert.deepEqual(h.refused, ['loopback']);
    assert.match(h.warnings[0] ?? '', /outbound connection refused.*"ruleId":"[^"]+".*"deviceId":"[^"]+"/);
  });

  it('regression: a webhook templated from device telemetry reaches the cloud metadata address (refused before any connection)', async () => {
    h = await harness();
    const errors = await fireAt(h, '169.254.169.254', '/latest/meta-data/');
    assert.equal(h.sent.length, 0, 'refused before connecting');
    assert.match(errors[0] ?? '', /169\.254\.169\.254 is a link-local address/);
    assert.deepEqual(h.refused, ['link-local']);
  });

  it('regression: a name that resolves to loopback (localhost, or any name in DNS) reaches a loopback service', async () => {
    h = await harness({ names: { 'internal.attacker.example': ['127.0.0.1'] } });
    const errors = [...(await fireAt(h, `localhost:${victim.port}`)), ...(await fireAt(h, `internal.attacker.example:${victim.port}`))];
    assert.equal(victim.hits.length, 0);
    assert.equal(h.sent.length, 0);
    assert.equal(errors.length, 2);
    for (const e of errors) assert.match(e, /is a loopback address/);
  });

  it('regression: decimal, hex and IPv4-mapped IPv6 spellings of 127.0.0.1 reach a loopback service', async () => {
    h = await harness();
    for (const host of ['2130706433', '0x7f000001', '0177.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::127.0.0.1]', '[::1]']) {
      const errors = await fireAt(h, `${host}:${victim.port}`);
      assert.match(errors[0] ?? '', /refused by policy/, host);
    }
    assert.equal(victim.hits.length, 0);
    assert.equal(h.sent.length, 0);
  });

  it('regression: a redirect from an allow-listed server reaches a loopback port that is not allowed', async () => {
    const redirector = await receiver(() => ({ status: 302, location: `http://127.0.0.1:${victim.port}/steal` }));
    try {
      h = await harness({ allow: [`127.0.0.1:${redirector.port}`] });
      const errors = await fireAt(h, `127.0.0.1:${redirector.port}`);
      assert.equal(redirector.hits.length, 1, 'the allowed server was called');
      assert.equal(victim.hits.length, 0, 'the redirect was not followed');
      assert.match(errors[0] ?? '', /answered 302: redirects are not followed \(to http:\/\/127\.0\.0\.1:\d+\/steal\)/);
    } finally {
      redirector.server.close();
    }
  });

  it("regression: a webhook reaches the platform's own HTTP port even where loopback is allowed", async () => {
    h = await harness({ allow: ['127.0.0.0/8'], ownPorts: [victim.port] });
    const errors = await fireAt(h, `127.0.0.1:${victim.port}`);
    assert.equal(victim.hits.length, 0);
    assert.match(errors[0] ?? '', /port \d+ is one of this platform's own listening ports/);
    assert.deepEqual(h.refused, ['own-port']);
  });

  it('allowed when allow-listed: the request reaches the receiver, pinned to the checked address', async () => {
    const allowed = await receiver();
    try {
      // "hooks.test" exists only in this test's name table: had the socket asked DNS again, it would fail.
      h = await harness({ allow: [`127.0.0.1:${allowed.port}`], names: { 'hooks.test': ['127.0.0.1'] } });
      const errors = [...(await fireAt(h, `127.0.0.1:${allowed.port}`)), ...(await fireAt(h, `hooks.test:${allowed.port}`)), ...(await fireAt(h, `localhost:${allowed.port}`))];
      assert.deepEqual(errors, []);
      assert.equal(allowed.hits.length, 3);
      assert.deepEqual(
        allowed.hits.map((x) => x.host),
        [`127.0.0.1:${allowed.port}`, `hooks.test:${allowed.port}`, `localhost:${allowed.port}`],
      );
      assert.deepEqual(h.sent[2]?.addresses, ['127.0.0.1'], 'localhost pinned to the allowed address only');
      assert.match(allowed.hits[0]?.body ?? '', /"device":"dev-/);
      assert.equal(victim.hits.length, 0);
    } finally {
      allowed.server.close();
    }
  });

  it('a rule with a literal refused URL is refused when saved (400 INVALID_RULE), and accepted when allow-listed', async () => {
    h = await harness({ allow: ['127.0.0.1:9000'] });
    const d = await h.f.device('saver');
    await assert.rejects(h.f.rule({ deviceId: d.id, condition: 'true', actions: [{ type: 'webhook', url: 'http://169.254.169.254/latest/' }] }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_RULE');
      assert.match(err.message, /actions\[0\]: webhook url is refused by the outbound policy: .*169\.254\.169\.254 is a link-local address/);
      return true;
    });
    await assert.rejects(h.f.rule({ deviceId: d.id, condition: 'true', actions: [{ type: 'webhook', url: 'http://2130706433:9001/' }] }), /loopback/);
    await assert.rejects(h.f.rule({ deviceId: d.id, condition: 'true', actions: [{ type: 'webhook', url: 'http://localhost:9001/' }] }), /loopback/);
    assert.ok(await h.f.rule({ deviceId: d.id, condition: 'true', actions: [{ type: 'webhook', url: 'http://127.0.0.1:9000/ok' }] }));
  });
});
