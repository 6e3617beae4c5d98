/**
 * The SMTP client against a small fake SMTP server: TLS required by default (STARTTLS with a
 * certificate from a test CA made by openssl, or implicit TLS), plain only when configured,
 * AUTH PLAIN, errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSmtpSender, formatMessage } from '../../../src/adapters/notify/smtp/index.js';
import { fakeSmtp, mailBody } from '../../support/fake-smtp.js';
import { tempDir } from '../../support/tmp.js';

const run = promisify(execFile);

const AUTH = `AUTH PLAIN ${Buffer.from('\0alerts\0s3cret').toString('base64')}`;

describe('SMTP client', () => {
  /** The server's key and certificate (signed by `ca`, for 127.0.0.1), and the test CA. */
  let key: Buffer;
  let cert: Buffer;
  let ca: Buffer;
  before(async () => {
    const dir = tempDir();
    const f = (name: string) => join(dir, name);
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Continuum test CA', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('k.pem'), '-out', f('s.csr')]);
    writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    await run('openssl', ['x509', '-req', '-in', f('s.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('c.pem')]);
    key = readFileSync(f('k.pem'));
    cert = readFileSync(f('c.pem'));
    ca = readFileSync(f('ca.pem'));
  });
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it('regression: SMTP STARTTLS is opportunistic: a server without STARTTLS gets the password and the mail in clear', async () => {
    const plain = await fakeSmtp({});
    servers.push(plain.server);
    const sender = createSmtpSender({ host: '127.0.0.1', port: plain.port, from: 'alerts@farm.example', username: 'alerts', password: 's3cret' });
    await assert.rejects(sender.send({ to: ['ops@farm.example'], subject: 's', text: 'secret reading' }), /SMTP 127\.0\.0\.1:\d+ does not offer STARTTLS: refusing to send credentials or mail in clear/);
    assert.deepEqual(plain.received[0]?.commands, ['EHLO localhost'], 'no AUTH, no MAIL, no DATA');
    assert.equal(plain.received[0]?.data, '');
  });

  it('refuses a STARTTLS upgrade whose certificate is not trusted, before AUTH', async () => {
    const fake = await fakeSmtp({ starttls: { key, cert } });
    servers.push(fake.server);
    // No `ca`: the system's CAs do not know the test CA.
    await assert.rejects(
      createSmtpSender({ host: '127.0.0.1', port: fake.port, from: 'alerts@farm.example', username: 'alerts', password: 's3cret' }).send({ to: ['ops@farm.example'], subject: 's', text: 't' }),
      /SMTP 127\.0\.0\.1:\d+: TLS failed \(.*certificate.*\); nothing was sent/,
    );
    assert.deepEqual(fake.received[0]?.commands, ['EHLO localhost', 'STARTTLS']);
  });

  it('upgrades with STARTTLS (certificate of a test CA), then authenticates', async () => {
    const fake = await fakeSmtp({ starttls: { key, cert } });
    servers.push(fake.server);
    await createSmtpSender({ host: '127.0.0.1', port: fake.port, from: 'alerts@farm.example', username: 'alerts', password: 's3cret', ca }).send({ to: ['ops@farm.example'], subject: 'Zählerstand ✓', text: 'x' });
    const s = fake.received[0];
    assert.equal(s?.tls, true);
    assert.deepEqual(s?.commands.slice(0, 4), ['EHLO localhost', 'STARTTLS', 'EHLO localhost', AUTH]);
    assert.match(s?.data ?? '', /Subject: =\?UTF-8\?B\?/);
  });

  it('speaks implicit TLS when configured (port 465 style)', async () => {
    const fake = await fakeSmtp({ implicitTls: { key, cert } });
    servers.push(fake.server);
    await createSmtpSender({ host: '127.0.0.1', port: fake.port, tls: 'implicit', from: 'alerts@farm.example', username: 'alerts', password: 's3cret', ca }).send({ to: ['ops@farm.example'], subject: 's', text: 'x' });
    assert.deepEqual(fake.received[0]?.commands.slice(0, 2), ['EHLO localhost', AUTH]);
    assert.equal(mailBody(fake.received[0]?.data ?? ''), 'x');
  });

  it("sends over plain SMTP with tls: 'none' (a local relay): envelope, headers, base64 UTF-8 body", async () => {
    const fake = await fakeSmtp({});
    servers.push(fake.server);
    await createSmtpSender({ host: '127.0.0.1', port: fake.port, tls: 'none', from: 'alerts@farm.example' }).send({ to: ['ops@farm.example', 'b@farm.example'], subject: 'Dry soil on field-7', text: 'Moisture 23 %\n.\nPump started — ok' });
    const s = fake.received[0];
    assert.deepEqual(s?.commands, ['EHLO localhost', 'MAIL FROM:<alerts@farm.example>', 'RCPT TO:<ops@farm.example>', 'RCPT TO:<b@farm.example>', 'DATA', 'QUIT']);
    assert.match(s?.data ?? '', /^From: alerts@farm.example\r\nTo: ops@farm.example, b@farm.example\r\nSubject: Dry soil on field-7\r\n/);
    assert.equal(mailBody(s?.data ?? ''), 'Moisture 23 %\r\n.\r\nPump started — ok');
  });

  it('fails clearly: refused recipient, bad credentials, header injection', async () => {
    const refusing = await fakeSmtp({ rcptCode: 550 });
    const plain = await fakeSmtp({});
    servers.push(refusing.server, plain.server);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: refusing.port, tls: 'none', from: 'a@x.example' }).send({ to: ['b@x.example'], subject: 's', text: 't' }), /RCPT TO: 550/);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: plain.port, tls: 'none', from: 'a@x.example', username: 'alerts', password: 'wrong' }).send({ to: ['b@x.example'], subject: 's', text: 't' }), /AUTH: 535/);
    assert.throws(() => formatMessage('a@x.example', { to: ['b@x.example'], subject: 'hi\r\nBcc: all@x.example', text: '' }), /line break/);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: plain.port, tls: 'none', from: 'a@x.example' }).send({ to: ['not an address'], subject: 's', text: 't' }), /not an address/);
  });
});
