/**
 * MQTT over TLS with client certificates (issue 12, item 11): with a device CA (`tls.ca`) a
 * presented certificate must chain to it, be within its validity dates and not be revoked by the
 * CRL (`tls.crl`); with `tls.authByCa` a CA-signed certificate authenticates the device its CN
 * names. Without a CA, self-signed certificates registered by fingerprint keep working.
 * Certificates, the CA and its CRL are made with the openssl CLI (`openssl ca`).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions } from 'mqtt';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform, type Platform } from '../../src/apps/platform.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { eventually } from '../support/platform.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

interface Pem {
  readonly cert: string;
  readonly key: string;
}

/** A CA that `openssl ca` can sign, revoke and publish a CRL with. */
class TestCa {
  constructor(readonly dir: string) {}

  static async create(dir: string, name: string): Promise<TestCa> {
    mkdirSync(join(dir, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(join(dir, 'crlnumber'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]', 'default_ca = dev',
        '[dev]', `dir = ${dir}`, 'database = $dir/index.txt', 'new_certs_dir = $dir/newcerts', 'certificate = $dir/ca.pem',
        'private_key = $dir/ca.key', 'serial = $dir/serial', 'crlnumber = $dir/crlnumber', 'default_md = sha256',
        'default_days = 2', 'default_crl_days = 2', 'policy = any', 'unique_subject = no',
        '[any]', 'commonName = supplied',
        '[client]', 'basicConstraints = CA:FALSE', 'keyUsage = digitalSignature', 'extendedKeyUsage = clientAuth',
      ].join('\n'),
    );
    await run('openssl', ['req', '-x509', ...EC_KEY, '-days', '2', '-subj', `/CN=${name}`, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return new TestCa(dir);
  }

  get certFile(): string {
    return join(this.dir, 'ca.pem');
  }

  /** A client certificate for `cn`; `dates` gives notBefore/notAfter (YYMMDDHHMMSSZ) for an expired one. */
  async issue(cn: string, dates?: { start: string; end: string }): Promise<Pem> {
    const base = join(this.dir, `${cn}-${Math.random().toString(36).slice(2)}`);
    await run('openssl', ['req', ...EC_KEY, '-subj', `/CN=${cn}`, '-keyout', `${base}.key`, '-out', `${base}.csr`]);
    await run('openssl', ['ca', '-batch', '-config', join(this.dir, 'ca.cnf'), '-extensions', 'client', '-in', `${base}.csr`, '-out', `${base}.pem`,
      ...(dates ? ['-startdate', dates.start, '-enddate', dates.end] : [])]);
    return { cert: `${base}.pem`, key: `${base}.key` };
  }

  async revoke(pem: Pem): Promise<void> {
    await run('openssl', ['ca', '-config', join(this.dir, 'ca.cnf'), '-revoke', pem.cert]);
  }

  async crl(): Promise<string> {
    const file = join(this.dir, 'crl.pem');
    await run('openssl', ['ca', '-config', join(this.dir, 'ca.cnf'), '-gencrl', '-out', file]);
    return file;
  }
}

async function selfSigned(dir: string, cn: string, days = 2): Promise<Pem> {
  const pem = { cert: join(dir, `${cn}.pem`), key: join(dir, `${cn}.key`) };
  await run('openssl', ['req', '-x509', ...EC_KEY, '-days', String(days), '-subj', `/CN=${cn}`, '-keyout', pem.key, '-out', pem.cert,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  return pem;
}

function fingerprint(pem: Pem): string {
  return new X509Certificate(readFileSync(pem.cert)).fingerprint256;
}

async function startTlsPlatform(dir: string, server: Pem, tls: Record<string, unknown>): Promise<Platform> {
  return startPlatform(
    loadConfig({
      env: {},
      overrides: {
        dataDir: dir,
        host: '127.0.0.1',
        http: { port: 0 },
        https: { port: 0 },
        mqtt: { port: 0, tlsPort: 0, connectTimeoutMs: 500 },
        coap: { port: 0 },
        store: { kind: 'memory' },
        tls: { cert: server.cert, key: server.key, ...tls },
        auth: { adminEmail: 'admin@test.local', adminPassword: 'test-password-1', jwtTtlSeconds: 3600 },
        log: { level: 'silent' },
      },
    }),
  );
}

/** CONNECT over TLS: 0 when accepted, else the CONNACK code (or -1 when the connection failed otherwise). */
async function connectCode(platform: Platform, server: Pem, options: IClientOptions & { clientPem?: Pem }): Promise<{ code: number; client?: mqtt.MqttClient }> {
  const { clientPem, ...rest } = options;
  const port = platform.ports.mqtts ?? 0;
  try {
    const client = await mqtt.connectAsync(
      `mqtts://127.0.0.1:${port}`,
      {
        ca: [readFileSync(server.cert)],
        ...(clientPem ? { cert: readFileSync(clientPem.cert), key: readFileSync(clientPem.key) } : {}),
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...rest,
      },
      false,
    );
    return { code: 0, client };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'number' ? code : -1 };
  }
}

async function deviceWithCertificate(platform: Platform, name: string, pem: Pem): Promise<string> {
  const { device } = await platform.registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name, certificateFingerprint: fingerprint(pem) });
  return device.id;
}

describe('MQTT TLS with a device CA and a CRL', () => {
  let dir: string;
  let platform: Platform;
  let server: Pem;
  let ca: TestCa;
  let revoked: Pem;

  before(async () => {
    dir = tempDir('continuum-client-certs-');
    server = await selfSigned(dir, 'localhost');
    ca = await TestCa.create(join(dir, 'ca'), 'Device CA');
    revoked = await ca.issue('revoked-meter');
    await ca.revoke(revoked);
    platform = await startTlsPlatform(dir, server, { ca: ca.certFile, crl: await ca.crl(), authByCa: true });
  });
  after(() => platform.stop());

  test('regression: a client certificate from a foreign CA was accepted (its fingerprint was registered)', async () => {
    const foreign = await TestCa.create(join(dir, 'foreign'), 'Foreign CA');
    const pem = await foreign.issue('foreign-meter');
    await deviceWithCertificate(platform, 'foreign-meter', pem);
    assert.equal((await connectCode(platform, server, { clientPem: pem, protocolVersion: 5 })).code, 0x87);
    assert.equal((await connectCode(platform, server, { clientPem: pem, protocolVersion: 4 })).code, 5);
  });

  test('regression: an expired client certificate was accepted', async () => {
    const pem = await ca.issue('expired-meter', { start: '200101000000Z', end: '200201000000Z' });
    await deviceWithCertificate(platform, 'expired-meter', pem);
    assert.equal((await connectCode(platform, server, { clientPem: pem, protocolVersion: 5 })).code, 0x87);
  });

  test('regression: a client certificate revoked by the CRL was accepted', async () => {
    await deviceWithCertificate(platform, 'revoked-meter', revoked);
    assert.equal((await connectCode(platform, server, { clientPem: revoked, protocolVersion: 5 })).code, 0x87);
    assert.equal((await connectCode(platform, server, { clientPem: revoked, protocolVersion: 4 })).code, 5);
  });

  test('a CA-signed certificate whose CN names a device authenticates as it and its telemetry is stored', async () => {
    const { device } = await platform.registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'ca-meter' });
    const pem = await ca.issue('ca-meter');
    const { code, client } = await connectCode(platform, server, { clientPem: pem, protocolVersion: 5 });
    assert.equal(code, 0);
    await client?.publishAsync('v1/devices/me/telemetry', JSON.stringify({ viaCa: 7 }), { qos: 1 });
    await client?.endAsync();
    const latest = await eventually(async () => (await platform.store.latest(device.id, ['viaCa'])).viaCa);
    assert.equal(latest?.value, 7);
  });

  test('a CA-signed certificate naming no device is refused', async () => {
    const pem = await ca.issue('nobody-by-this-name');
    assert.equal((await connectCode(platform, server, { clientPem: pem, protocolVersion: 5 })).code, 0x87);
  });

  test('a device with an access token and no client certificate still connects over TLS', async () => {
    const { accessToken } = await platform.registry.createDevice({ tenantId: DEFAULT_TENANT_ID, name: 'token-over-tls' });
    const { code, client } = await connectCode(platform, server, { username: accessToken });
    assert.equal(code, 0);
    await client?.endAsync();
  });

  test('regression: a TLS handshake that never completes held the connection', { timeout: 20_000 }, async () => {
    const socket = tcpConnect({ host: '127.0.0.1', port: platform.ports.mqtts ?? 0 });
    socket.on('error', () => undefined);
    const closed = once(socket, 'close');
    await once(socket, 'connect');
    // The start of a TLS record, then nothing.
    socket.write(Buffer.from([0x16, 0x03, 0x01]));
    await closed;
    assert.equal(socket.destroyed, true);
  });
});

describe('MQTT TLS without a device CA', () => {
  let dir: string;
  let platform: Platform;
  let server: Pem;

  before(async () => {
    dir = tempDir('continuum-client-certs-noca-');
    server = await selfSigned(dir, 'localhost');
    platform = await startTlsPlatform(dir, server, {});
  });
  after(() => platform.stop());

  test('a self-signed certificate registered by fingerprint authenticates its device', async () => {
    const pem = await selfSigned(dir, 'fp-meter');
    const deviceId = await deviceWithCertificate(platform, 'fp-meter', pem);
    const { code, client } = await connectCode(platform, server, { clientPem: pem, protocolVersion: 4 });
    assert.equal(code, 0);
    await client?.publishAsync('v1/devices/me/telemetry', JSON.stringify({ viaFingerprint: 1 }), { qos: 1 });
    await client?.endAsync();
    const latest = await eventually(async () => (await platform.store.latest(deviceId, ['viaFingerprint'])).viaFingerprint);
    assert.equal(latest?.value, 1);
  });

  test('regression: an expired self-signed certificate registered by fingerprint was accepted', async () => {
    const ca = await TestCa.create(join(dir, 'selfca'), 'Some CA');
    const pem = await ca.issue('old-meter', { start: '200101000000Z', end: '200201000000Z' });
    await deviceWithCertificate(platform, 'old-meter', pem);
    assert.equal((await connectCode(platform, server, { clientPem: pem, protocolVersion: 5 })).code, 0x87);
  });
});
