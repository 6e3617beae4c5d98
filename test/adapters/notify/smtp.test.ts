/** The SMTP client against a small fake SMTP server: plain, STARTTLS (openssl certificate), AUTH PLAIN, errors. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSmtpSender, formatMessage } from '../../../src/adapters/notify/smtp/index.js';
import { fakeSmtp, mailBody } from '../../support/fake-smtp.js';
import { tempDir } from '../../support/tmp.js';

const run = promisify(execFile);

describe('SMTP client', () => {
  let key: Buffer;
  let cert: Buffer;
  before(async () => {
    const dir = tempDir();
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')]);
    key = readFileSync(join(dir, 'k.pem'));
    cert = readFileSync(join(dir, 'c.pem'));
  });
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it('sends over plain SMTP: envelope, headers, base64 UTF-8 body', async () => {
    const fake = await fakeSmtp({});
    servers.push(fake.server);
    await createSmtpSender({ host: '127.0.0.1', port: fake.port, from: 'alerts@farm.example' }).send({ to: ['ops@farm.example', 'b@farm.example'], subject: 'Dry soil on field-7', text: 'Moisture 23 %\n.\nPump started — ok' });
    const s = fake.received[0];
    assert.deepEqual(s?.commands, ['EHLO localhost', 'MAIL FROM:<alerts@farm.example>', 'RCPT TO:<ops@farm.example>', 'RCPT TO:<b@farm.example>', 'DATA', 'QUIT']);
    assert.match(s?.data ?? '', /^From: alerts@farm.example\r\nTo: ops@farm.example, b@farm.example\r\nSubject: Dry soil on field-7\r\n/);
    assert.equal(mailBody(s?.data ?? ''), 'Moisture 23 %\r\n.\r\nPump started — ok');
  });

  it('upgrades with STARTTLS when offered, then authenticates', async () => {
    const fake = await fakeSmtp({ starttls: { key, cert } });
    servers.push(fake.server);
    await createSmtpSender({ host: '127.0.0.1', port: fake.port, from: 'alerts@farm.example', username: 'alerts', password: 's3cret', requireTls: true, tls: { ca: cert } }).send({ to: ['ops@farm.example'], subject: 'Zählerstand ✓', text: 'x' });
    const s = fake.received[0];
    assert.equal(s?.tls, true);
    assert.deepEqual(s?.commands.slice(0, 4), ['EHLO localhost', 'STARTTLS', 'EHLO localhost', `AUTH PLAIN ${Buffer.from('\0alerts\0s3cret').toString('base64')}`]);
    assert.match(s?.data ?? '', /Subject: =\?UTF-8\?B\?/);
  });

  it('fails clearly: refused recipient, bad credentials, no TLS when required, header injection', async () => {
    const refusing = await fakeSmtp({ rcptCode: 550 });
    const plain = await fakeSmtp({});
    servers.push(refusing.server, plain.server);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: refusing.port, from: 'a@x.example' }).send({ to: ['b@x.example'], subject: 's', text: 't' }), /RCPT TO: 550/);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: plain.port, from: 'a@x.example', username: 'alerts', password: 'wrong' }).send({ to: ['b@x.example'], subject: 's', text: 't' }), /AUTH: 535/);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: plain.port, from: 'a@x.example', requireTls: true }).send({ to: ['b@x.example'], subject: 's', text: 't' }), /requireTls/);
    assert.throws(() => formatMessage('a@x.example', { to: ['b@x.example'], subject: 'hi\r\nBcc: all@x.example', text: '' }), /line break/);
    await assert.rejects(createSmtpSender({ host: '127.0.0.1', port: plain.port, from: 'a@x.example' }).send({ to: ['not an address'], subject: 's', text: 't' }), /not an address/);
  });
});
