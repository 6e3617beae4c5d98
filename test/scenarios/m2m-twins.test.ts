/**
 * Each new pack's M2M twin end to end, as `--demo NAME --m2m` runs it (src/apps/m2m/): the field
 * devices on their own protocol → the edge gateway on the twin's shipped config → the platform
 * (telemetry of the edge's child devices) → the twin's platform rule → its command back down
 * the field protocol, read back at the simulated field device. One platform for all seven twins.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType } from '@bacnet-js/client';
import { startM2mTwin, type M2mTwin } from '../../src/apps/m2m/run.js';
import { NURSE_CALL } from '../../src/simulator/m2m/bedside-monitor.js';
import { FARM_NUMBERS, FLEET_NUMBERS, VENDING_NUMBERS } from '../../src/apps/m2m/field.js';
import { PRESS_REGISTERS } from '../../src/simulator/m2m/press-plc.js';
import { eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
const twins: Partial<{
  meters: M2mTwin<'smart-meters'>;
  vending: M2mTwin<'vending'>;
  patients: M2mTwin<'patient-monitoring'>;
  home: M2mTwin<'smart-home'>;
  farm: M2mTwin<'smart-farm'>;
  factory: M2mTwin<'factory'>;
  fleet: M2mTwin<'fleet'>;
}> = {};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

type Latest = Record<string, { value: unknown }>;

async function child(name: string): Promise<string> {
  const d = await eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string; gatewayId?: string }[] }>('GET', `/api/devices?search=${name}`);
    return list.body.items.find((x) => x.name === name && x.gatewayId !== undefined);
  }, 20_000, `child device ${name}`);
  return d.id;
}

async function latestWith(id: string, ok: (l: Latest) => boolean, what: string): Promise<Latest> {
  return eventually(async () => {
    const res = await tp.api.request<Latest>('GET', `/api/devices/${id}/telemetry/latest`);
    return ok(res.body) ? res.body : undefined;
  }, 30_000, what);
}

/** The commands a rule sent to a device, as GET /api/commands lists them. */
async function ruleCommand(id: string, method: string): Promise<{ status: string; origin?: string }> {
  return eventually(async () => {
    const res = await tp.api.request<{ items: { method: string; status: string; origin?: string; deviceId: string }[] }>('GET', `/api/commands?deviceId=${id}`);
    return res.body.items.find((c) => c.method === method && c.origin?.startsWith('rule:') && c.status === 'SUCCESSFUL');
  }, 30_000, `${method} sent by a rule and answered`);
}

/** The open alarm of `type` on a device, once the rule raised it. */
async function alarmOn(id: string, type: string): Promise<{ type: string; severity: string }> {
  return eventually(async () => {
    const res = await tp.api.request<{ items: { type: string; severity: string; deviceId: string }[] }>('GET', `/api/alarms?deviceId=${id}&type=${type}`);
    return res.body.items.find((a) => a.deviceId === id && a.type === type);
  }, 30_000, `${type} alarm`);
}

before(async () => {
  tp = await startTestPlatform();
  const common = {
    baseUrl: tp.baseUrl,
    apiKey: await tp.platform.createAdminApiKey('m2m twins'),
    mqtt: { host: '127.0.0.1', port: tp.ports.mqtt },
    dataDir: tempDir(),
    log: quiet,
  };
  twins.meters = await startM2mTwin({ ...common, pack: 'smart-meters' });
  twins.vending = await startM2mTwin({ ...common, pack: 'vending' });
  twins.patients = await startM2mTwin({ ...common, pack: 'patient-monitoring' });
  twins.home = await startM2mTwin({ ...common, pack: 'smart-home' });
  twins.farm = await startM2mTwin({ ...common, pack: 'smart-farm' });
  twins.factory = await startM2mTwin({ ...common, pack: 'factory' });
  twins.fleet = await startM2mTwin({ ...common, pack: 'fleet' });
});

after(async () => {
  for (const t of [twins.fleet, twins.factory, twins.farm, twins.home, twins.patients, twins.vending, twins.meters]) await t?.stop();
  await tp?.stop();
});

test('smart-meters: SDM registers over Modbus RTU become telemetry; overload opens the load relay (coil 0) on the line', async () => {
  const id = await child('meter-rtu-1');
  const first = await latestWith(id, (l) => typeof l.voltage?.value === 'number' && typeof l.importEnergy?.value === 'number', 'meter readings');
  const volts = first.voltage?.value as number;
  assert.ok(volts > 220 && volts < 240, `voltage ${volts}`);
  await ruleCommand(id, 'setLoadRelay');
  const meters = twins.meters!.field.devices.meters;
  // Modbus answers a write only once done: SUCCESSFUL means the slave holds the value.
  assert.equal(meters.relay(1), false, 'coil 0 of unit 1 written off');
  assert.deepEqual(meters.writes.find((w) => w.unit === 1), { unit: 1, address: 0, value: false });
  assert.equal(meters.relay(2), true, 'the other meter keeps its load');
  // Read back over the line: the relay state the edge polls, and the power with the charger off.
  await latestWith(id, (l) => l.loadRelay?.value === false && (l.power?.value as number) < 7000, 'relay open and power below the limit');
});

test('vending: STOCK texts through the GSM modem become telemetry; low stock texts the supplier phone', async () => {
  const id = await child('vending-sms-1');
  await latestWith(id, (l) => typeof l.slot1?.value === 'number' && typeof l.slot2?.value === 'number', 'stock telemetry');
  const supplierId = await child('supplier-phone');
  await ruleCommand(supplierId, 'notify');
  const supplier = twins.vending!.field.devices.machines.supplier;
  const text = await eventually(async () => supplier.received.find((m) => m.text.startsWith('REFILL vending-sms-1')), 15_000, 'SMS at the supplier phone');
  assert.equal(text.from, VENDING_NUMBERS.modem);
  assert.match(text.text, /^REFILL vending-sms-1 \d+,[0-2],\d+$/);
});

test('patient-monitoring: binary vitals frames become telemetry; low SpO2 sends the nurse-call frame to the monitor', async () => {
  const id = await child('bedside-1');
  const first = await latestWith(id, (l) => typeof l.heartRate?.value === 'number' && typeof l.temperature?.value === 'number', 'vitals');
  assert.ok(Math.abs((first.temperature?.value as number) - 36.8) < 0.5, `temperature ${String(first.temperature?.value)}`);
  await ruleCommand(id, 'nurseCall');
  const monitors = twins.patients!.field.devices.monitors;
  // SUCCESSFUL once the edge wrote the frame to its end of the line; the monitor reads it a moment later.
  const received = await eventually(async () => monitors.commands[0], 10_000, 'nurse-call frame at the monitor');
  assert.deepEqual(received, { bed: 1, code: NURSE_CALL });
  assert.equal(monitors.nurseCall(1), true);
  assert.equal(monitors.nurseCall(2), false);
  await latestWith(id, (l) => l.nurseCall?.value === true, 'nurse call sounding, reported in the frames');
});

test('smart-home: the BACnet heating controller reports over COV; the thermostat rule writes its valve at priority 8', async () => {
  const id = await child('heating-1');
  await latestWith(id, (l) => typeof l.roomTemp?.value === 'number' && l.setpoint?.value === 21, 'room temperature and setpoint');
  await ruleCommand(id, 'heatingOn');
  const heating = twins.home!.field.devices.heating;
  assert.deepEqual(heating.device.writes[0], { key: `${ObjectType.BINARY_OUTPUT}:2`, value: 1, priority: 8 });
  // The write's COV report comes back after the command settles: wait for it, then read the valve.
  await latestWith(id, (l) => l.heating?.value === true, 'valve open, reported back by COV');
  assert.equal(heating.valveOpen(), true);
});

test('smart-farm: the GSM pump controller texts its soil moisture; a dry field gets PUMP ON from the whitelisted gateway number', async () => {
  const id = await child('pump-gsm-1');
  await latestWith(id, (l) => typeof l.soilMoisture?.value === 'number' && typeof l.pump?.value === 'boolean', 'soil and pump status');
  await ruleCommand(id, 'setPump');
  const pump = twins.farm!.field.devices.pump;
  // SUCCESSFUL on the SMSC's delivery report: the controller has the text by then.
  assert.deepEqual(pump.obeyed[0], { from: FARM_NUMBERS.gateway, text: 'PUMP ON' });
  assert.equal((await alarmOn(id, 'DrySoil')).severity, 'warning');
  // Its status answer, back through the edge: the relay closed.
  await latestWith(id, (l) => l.pump?.value === true, 'pump on, reported by SMS');
  // The whitelist: the same kind of text from a number that is not the gateway's is ignored.
  const stranger = twins.farm!.field.devices.smsc.handset('+491709999999');
  stranger.send(FARM_NUMBERS.pump, 'PUMP OFF');
  await eventually(async () => pump.ignored.find((m) => m.from === '+491709999999'), 10_000, 'stranger\'s text at the controller');
  assert.ok(pump.obeyed.every((m) => m.from === FARM_NUMBERS.gateway), JSON.stringify(pump.obeyed));
});

test('factory: press registers over Modbus TCP; bearing wear lowers the load setpoint; the over-temperature interlock trips on the edge', async () => {
  const id = await child('press-1');
  await latestWith(id, (l) => typeof l.vibration?.value === 'number' && typeof l.bearingTemp?.value === 'number', 'press readings');
  await ruleCommand(id, 'reduceLoad');
  const plc = twins.factory!.field.devices.plc;
  // Modbus answers a write once done: SUCCESSFUL means the PLC holds the setpoint.
  assert.ok(plc.writes.some((w) => w.table === 'holding' && w.address === PRESS_REGISTERS.load && w.value === 60), JSON.stringify(plc.writes));
  assert.equal(plc.press(1)?.load, 60);
  assert.equal((await alarmOn(id, 'BearingWear')).severity, 'major');
  await latestWith(id, (l) => l.load?.value === 60 && (l.vibration?.value as number) < 4.5, 'load 60 %, vibration out of zone C');

  // Press 2 overheats: the edge's local rule writes its run coil off, no platform command involved.
  const id2 = await child('press-2');
  await latestWith(id2, (l) => l.running?.value === false, 'press 2 stopped by the interlock');
  assert.ok(plc.writes.some((w) => w.table === 'coil' && w.address === PRESS_REGISTERS.block + PRESS_REGISTERS.run && w.value === false), JSON.stringify(plc.writes));
  assert.equal(plc.press(2)?.running, false);
  const commands = await tp.api.request<{ items: unknown[] }>('GET', `/api/commands?deviceId=${id2}`);
  assert.deepEqual(commands.body.items, [], 'the interlock is local');
  assert.equal((await alarmOn(id2, 'MachineStopped')).severity, 'critical');
});

test('fleet: POS texts through the control room modem become positions; overspeed texts SPEED LIMIT to the tracker, which obeys', async () => {
  const id = await child('van-gsm-1');
  await latestWith(id, (l) => typeof l.latitude?.value === 'number' && typeof l.speed?.value === 'number', 'position telemetry');
  await ruleCommand(id, 'limitSpeed');
  const vans = twins.fleet!.field.devices.trackers.vans;
  const text = await eventually(async () => vans[0]?.subscriber.received.find((m) => m.text === 'SPEED LIMIT 80'), 15_000, 'SMS at the tracker');
  assert.equal(text.from, FLEET_NUMBERS.modem);
  assert.equal(vans[0]?.speedLimit, 80);
  assert.equal((await alarmOn(id, 'Overspeed')).severity, 'major');
  // The tracker's acknowledgement and its capped speed, texted back through the modem.
  await latestWith(id, (l) => l.acknowledged?.value === 'SPEED LIMIT 80' && (l.speed?.value as number) <= 80, 'limit acknowledged and obeyed');
  assert.deepEqual(vans[1]?.commands, [], 'the van in town got nothing');
});
