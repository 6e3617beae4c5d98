/** The outbound policy's pure parts: address classes, allow-list entries, decisions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress } from '../../src/domain/outbound/address.js';
import { parseAllowEntry } from '../../src/domain/outbound/allow-list.js';
import { effectivePort, OutboundPolicy } from '../../src/domain/outbound/policy.js';

describe('address classifier', () => {
  it('refuses every non-public IPv4 range and allows public ones', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared'],
      ['100.127.255.255', 'shared'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['172.32.0.1', 'public'],
      ['100.128.0.1', 'public'],
      ['8.8.8.8', 'public'],
      ['1.1.1.1', 'public'],
    ];
    for (const [address, cls] of cases) assert.equal(classifyAddress(address), cls, address);
  });

  it('reads the IPv4 spellings a resolver accepts: decimal, hex, octal, short forms', () => {
    for (const spelling of ['2130706433', '0x7f000001', '0x7f.0.0.1', '0177.0.0.1', '017700000001', '127.1']) assert.equal(classifyAddress(spelling), 'loopback', spelling);
    assert.equal(classifyAddress('2852039166'), 'link-local', '169.254.169.254 as one number');
  });

  it('classifies IPv6, and IPv4-mapped, -compatible, NAT64 and 6to4 forms by what they reach', () => {
    const cases: [string, string][] = [
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['fc00::1', 'private'],
      ['fd12:3456::1', 'private'],
      ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['[::ffff:169.254.169.254]', 'link-local'],
      ['::ffff:10.0.0.1', 'private'],
      ['::7f00:1', 'reserved'], // IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::808:808', 'public'],
      ['2002:7f00:1::1', 'loopback'],
      ['2002:a9fe:a9fe::1', 'link-local'],
      ['2001:db8::1', 'reserved'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
      ['2606:4700:4700::1111', 'public'],
      ['2a00:1450:4001:830::200e', 'public'],
    ];
    for (const [address, cls] of cases) assert.equal(classifyAddress(address), cls, address);
  });

  it('says a host name is not an address', () => {
    assert.equal(classifyAddress('example.com'), undefined);
    assert.equal(classifyAddress('localhost'), undefined);
  });
});

describe('allow-list entries', () => {
  it('parses names, wildcards, addresses, networks and ports', () => {
    assert.deepEqual(parseAllowEntry('hooks.internal.example').match, { kind: 'name', name: 'hooks.internal.example', wildcard: false });
    assert.equal(parseAllowEntry('hooks.internal.example').port, undefined);
    assert.deepEqual(parseAllowEntry('*.Svc.Example:8443').match, { kind: 'name', name: 'svc.example', wildcard: true });
    assert.equal(parseAllowEntry('*.svc.example:8443').port, 8443);
    assert.equal(parseAllowEntry('127.0.0.1:9000').port, 9000);
    assert.equal(parseAllowEntry('[::1]:9000').port, 9000);
    assert.equal(parseAllowEntry('fd00::/8:443').port, 443);
    assert.equal(parseAllowEntry('10.1.0.0/16').match.kind, 'network');
    assert.equal(parseAllowEntry('::1').match.kind, 'network');
  });

  it('refuses entries that could be misread', () => {
    assert.throws(() => parseAllowEntry('127.1'), /four decimal numbers/);
    assert.throws(() => parseAllowEntry('2130706433'), /four decimal numbers/);
    assert.throws(() => parseAllowEntry('host:99999'), /not a port/);
    assert.throws(() => parseAllowEntry('10.0.0.0/33'), /prefix length/);
    assert.throws(() => parseAllowEntry('http://x/'), /not an IP address|neither/);
    assert.throws(() => parseAllowEntry(' '), /empty/);
  });
});

describe('outbound policy', () => {
  const target = (address: string, port = 80, hostname = address) => ({ hostname, port, address });

  it('refuses non-public addresses by default and allows public ones', () => {
    const policy = new OutboundPolicy();
    assert.deepEqual(policy.decide(target('8.8.8.8')), { allowed: true });
    const refused = policy.decide(target('169.254.169.254'));
    assert.equal(refused.allowed, false);
    assert.match(!refused.allowed ? refused.message : '', /link-local/);
  });

  it('an allow entry opens exactly what it names', () => {
    const policy = new OutboundPolicy({ allow: ['127.0.0.1:9000', 'hooks.internal.example', '10.1.0.0/16', '*.svc.example:8443'] });
    assert.equal(policy.decide(target('127.0.0.1', 9000)).allowed, true);
    assert.equal(policy.decide(target('::ffff:127.0.0.1', 9000)).allowed, true);
    assert.equal(policy.decide(target('127.0.0.1', 9001)).allowed, false);
    assert.equal(policy.decide(target('127.0.0.1', 9000, 'localhost')).allowed, true, 'address entries match after resolution');
    assert.equal(policy.decide(target('10.9.0.1', 80, 'hooks.internal.example')).allowed, true);
    assert.equal(policy.decide(target('10.1.200.3', 5000)).allowed, true);
    assert.equal(policy.decide(target('10.2.0.1', 5000)).allowed, false);
    assert.equal(policy.decide(target('10.9.0.1', 8443, 'a.b.svc.example')).allowed, true);
    assert.equal(policy.decide(target('10.9.0.1', 8443, 'svc.example')).allowed, false);
    assert.equal(policy.decide(target('10.9.0.1', 80, 'a.svc.example')).allowed, false);
  });

  it("refuses the platform's own ports on this host unless an entry names that port", () => {
    const policy = new OutboundPolicy({ allow: ['127.0.0.0/8', '192.0.2.7:8080'], ownPorts: () => [8080], isLocalAddress: (a) => a === '192.0.2.7' });
    const own = policy.decide(target('127.0.0.1', 8080));
    assert.equal(own.allowed, false);
    assert.equal(!own.allowed && own.reason, 'own-port');
    assert.equal(policy.decide(target('127.0.0.1', 8081)).allowed, true);
    assert.equal(policy.decide(target('192.0.2.7', 8080)).allowed, true, 'explicit entry with the port');
    assert.equal(new OutboundPolicy({ ownPorts: () => [443], isLocalAddress: (a) => a === '203.0.113.9' }).decide(target('8.8.8.8', 443)).allowed, true, 'another host on the same port');
  });

  it('decides literal URLs and localhost names before any lookup', () => {
    const policy = new OutboundPolicy({ allow: ['127.0.0.1:9000'] });
    assert.equal(policy.decideLiteral(new URL('http://2130706433:9000/'))?.allowed, true);
    assert.equal(policy.decideLiteral(new URL('http://[::ffff:127.0.0.1]:9001/'))?.allowed, false);
    assert.equal(policy.decideLiteral(new URL('http://localhost:9000/'))?.allowed, true);
    assert.equal(policy.decideLiteral(new URL('http://app.localhost/'))?.allowed, false);
    assert.equal(policy.decideLiteral(new URL('https://hooks.example.com/')), undefined);
  });
});

describe('effective port of integration schemes', () => {
  it('uses each protocol\'s default port, so an entry with a port matches a URL without one', () => {
    const cases: [string, number][] = [['mqtt://h', 1883], ['mqtts://h', 8883], ['ws://h/mqtt', 80], ['wss://h', 443], ['nats://h', 4222], ['tls://h', 4222], ['amqp://h/v', 5672], ['amqps://h', 5671], ['https://h', 443], ['mqtt://h:1999', 1999]];
    for (const [url, port] of cases) assert.equal(effectivePort(new URL(url)), port, url);
    const policy = new OutboundPolicy({ allow: ['127.0.0.1:1883'] });
    assert.equal(policy.decideLiteral(new URL('mqtt://127.0.0.1'))?.allowed, true);
    assert.equal(policy.decideLiteral(new URL('nats://127.0.0.1'))?.allowed, false);
  });
});
