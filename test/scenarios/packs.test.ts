/**
 * Every scenario pack end to end: installed into a fresh platform, its devices played by the
 * simulator over the real protocols (MQTT, and HTTP for the ECG recorder) at the pack's demo
 * speed, until the pack's characteristic rule has fired — the alarm it raises or the command it
 * sends (answered by the simulated device) is visible through the REST API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PACKS } from '../../src/scenarios/index.js';
import { installPack } from '../../src/scenarios/install.js';
import { simDevicesOf } from '../../src/scenarios/run.js';
import { startSimulation } from '../../src/simulator/engine.js';
import { eventually, startTestPlatform } from '../support/platform.js';
import { packApi } from './support.js';

const quiet = { info: () => undefined, warn: () => undefined };

interface AlarmItem {
  type: string;
  deviceId: string;
  severity: string;
}
interface CommandItem {
  method: string;
  origin: string | null;
  status: string;
  deviceId: string;
}

for (const pack of PACKS) {
  test(`${pack.name}: simulated devices make "${pack.characteristic.rule}" fire`, async () => {
    const tp = await startTestPlatform();
    const api = await packApi(tp.baseUrl);
    const installed = await installPack(api, pack);
    const rule = installed.rules.find((r) => r.name === pack.characteristic.rule);
    assert.ok(rule, 'characteristic rule installed');
    const sim = startSimulation({
      devices: simDevicesOf(pack, installed.devices),
      endpoints: { mqtt: { host: '127.0.0.1', port: tp.ports.mqtt }, coap: { host: '127.0.0.1', port: tp.ports.coap }, http: tp.baseUrl },
      speed: pack.demoSpeed ?? 1,
      log: quiet,
    });
    try {
      const ids = new Set(installed.devices.map((d) => d.id));
      if (pack.characteristic.alarm) {
        const alarm = await eventually(async () => {
          const page = await api.request<{ items: AlarmItem[] }>('GET', '/api/alarms?limit=100');
          return page.items.find((a) => a.type === pack.characteristic.alarm);
        }, 60_000, `${pack.characteristic.alarm} alarm`);
        assert.ok(ids.has(alarm.deviceId), 'raised on a pack device');
      }
      if (pack.characteristic.command) {
        const command = await eventually(async () => {
          const page = await api.request<{ items: CommandItem[] }>('GET', '/api/commands?limit=100');
          return page.items.find((c) => c.method === pack.characteristic.command && c.origin === `rule:${rule.id}` && c.status === 'SUCCESSFUL');
        }, 60_000, `${pack.characteristic.command} command answered by the device`);
        assert.ok(ids.has(command.deviceId), 'sent to a pack device');
      }
      const stats = sim.stats();
      assert.ok(stats.acked > 0, `telemetry acknowledged (${JSON.stringify(stats)})`);
      assert.equal(stats.errors, 0, `no simulator errors (${JSON.stringify(stats)})`);
    } finally {
      await sim.stop();
      await tp.stop();
    }
  });
}
