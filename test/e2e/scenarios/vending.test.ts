/**
 * Vending machine: stock below 5 → SMS to the supplier through a local SMSC (the `smpp` package's
 * server; the platform binds to it over SMPP 3.4 as configured in notify.smpp), and an e-mail
 * through a local SMTP server. The machine reports over HTTP (curl) and CoAP (coap-client), and
 * also gets the alert on its own MQTT namespace through an mqttPublish action.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Server as NetServer } from 'node:net';
import { promisify } from 'node:util';
import { fakeSmtp, mailBody, type Received } from '../../support/fake-smtp.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { startSmsc, type TestSmsc } from '../../support/smsc.js';
import { createRule, mosquittoSub } from './helpers.js';

const run = promisify(execFile);
let tp: TestPlatform;
let smsc: TestSmsc;
let smtp: NetServer;
let mails: Received[];

before(async () => {
  const fake = await fakeSmtp({});
  smtp = fake.server;
  mails = fake.received;
  smsc = await startSmsc({ systemId: 'vendco', password: 'sms-pw' });
  tp = await startTestPlatform({
    config: {
      notify: {
        // A relay on this host without TLS: allowed only because the config says so.
        smtp: { host: '127.0.0.1', port: fake.port, from: 'machines@vending.example', tls: 'none' },
        smpp: { enabled: true, host: '127.0.0.1', port: smsc.port, systemId: 'vendco', password: 'sms-pw', sourceAddr: 'VendCo' },
      },
    },
  });
});
after(async () => {
  await tp.stop();
  await smsc.close();
  smtp.close();
});

async function httpTelemetry(token: string, body: unknown): Promise<void> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify(body), `${tp.baseUrl}/api/v1/${token}/telemetry`]);
  assert.equal(stdout, '200');
}

test('stock < 5 → the supplier gets an SMS over SMPP and an e-mail, once per shortage', async () => {
  const machine = await tp.api.createDevice('vend-042', { label: 'Station hall' });
  await createRule(tp.api, {
    name: 'Restock',
    deviceId: machine.id,
    trigger: 'telemetry',
    condition: 'stock < 5',
    actions: [
      { type: 'sms', to: '+15550100', text: '${deviceName}: only ${stock} items left of ${product}' },
      { type: 'mqttPublish', topic: 'devices/${deviceName}/alerts', payload: { restock: true, stock: '${stock}' }, qos: 1 },
      { type: 'email', to: 'orders@supplier.example', subject: 'Restock ${deviceName}', text: '${product}: ${stock} left.' },
    ],
  });
  const alerts = mosquittoSub(tp.ports.mqtt, machine.accessToken, 1, 'devices/vend-042/alerts');
  try {
    await new Promise((r) => setTimeout(r, 300));
    await httpTelemetry(machine.accessToken, { stock: 12, product: 'cola' });
    await httpTelemetry(machine.accessToken, { stock: 4, product: 'cola' });
    await eventually(async () => (smsc.received.length === 1 ? true : undefined), 10_000, 'SMS at the SMSC');
    assert.deepEqual(smsc.received[0], {
      systemId: 'vendco',
      source: 'VendCo',
      sourceTon: 5,
      destination: '15550100',
      destinationTon: 1,
      dataCoding: 0,
      esmClass: 0,
      text: 'vend-042: only 4 items left of cola',
    });
    const [alert] = await alerts.messages;
    assert.deepEqual(alert, { topic: 'devices/vend-042/alerts', body: { restock: true, stock: 4 } });
    const [mail] = await eventually(async () => (mails.length === 1 && mails[0]?.data ? mails : undefined), 10_000, 'e-mail');
    assert.ok(mail?.commands.includes('RCPT TO:<orders@supplier.example>'));
    assert.match(mail?.data ?? '', /Subject: Restock vend-042\r\n/);
    assert.equal(mailBody(mail?.data ?? ''), 'cola: 4 left.');
  } finally {
    alerts.kill();
  }

  // Still short over CoAP: no second message; restocked, then short again: a new one.
  await run('coap-client-notls', ['-B', '5', '-m', 'post', '-t', 'application/json', '-e', JSON.stringify({ stock: 3 }), `coap://127.0.0.1:${tp.ports.coap}/api/v1/${machine.accessToken}/telemetry`]);
  await httpTelemetry(machine.accessToken, { stock: 40 });
  await httpTelemetry(machine.accessToken, { stock: 2 });
  await eventually(async () => (smsc.received.length === 2 ? true : undefined), 10_000, 'second SMS');
  assert.equal(smsc.received[1]?.text, 'vend-042: only 2 items left of cola');
  assert.equal(smsc.received[1]?.destination, '15550100');
  assert.deepEqual(smsc.binds, ['vendco']);
});
