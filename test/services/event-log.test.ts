/** The operator's info lines: connects, alarms, commands — bounded per window, with a count of the rest. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import type { Alarm, Command } from '../../src/domain/action-apis.js';
import { subjectFor } from '../../src/domain/subjects.js';
import type { Logger } from '../../src/ports.js';
import { EventLog, statusLine } from '../../src/services/event-log.js';

function recorder(): Logger & { lines: { msg: string; obj: Record<string, unknown> }[] } {
  const lines: { msg: string; obj: Record<string, unknown> }[] = [];
  const logger = {
    lines,
    debug: () => undefined,
    info: (obj: object, msg?: string) => void lines.push({ msg: msg ?? '', obj: obj as Record<string, unknown> }),
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

test('status edges read as connected, disconnected, active, offline', () => {
  assert.equal(statusLine({ online: true, lastConnect: 10, lastActivity: 10 }), 'device connected');
  assert.equal(statusLine({ online: true, lastConnect: 10, lastDisconnect: 20, lastActivity: 15 }), 'device disconnected', 'recent activity keeps it online, the session closed');
  assert.equal(statusLine({ online: false, lastConnect: 10, lastDisconnect: 20, lastActivity: 20 }), 'device disconnected');
  assert.equal(statusLine({ online: true, lastConnect: 10, lastDisconnect: 20, lastActivity: 30 }), 'device active');
  assert.equal(statusLine({ online: true, lastActivity: 30 }), 'device active');
  assert.equal(statusLine({ online: false, lastActivity: 30 }), 'device offline');
});

test('connects are logged up to the budget per window, then counted; alarms and commands get their lines', async () => {
  const logger = recorder();
  let now = 1_000;
  const clock = { now: () => now };
  const bus = new MemoryBus(logger);
  const log = new EventLog({ bus, clock, logger }, { linesPerWindow: 3, windowMs: 10_000 });
  log.start();
  for (let i = 0; i < 10; i++) {
    await bus.publish('status', subjectFor('status', 't', `d${i}`), { tenantId: 't', deviceId: `d${i}`, online: true, lastConnect: now, lastActivity: now, transport: 'mqtt' });
  }
  await flush();
  assert.deepEqual(logger.lines.map((l) => [l.msg, l.obj.deviceId]), [
    ['device connected', 'd0'],
    ['device connected', 'd1'],
    ['device connected', 'd2'],
  ]);
  now += 10_000;
  await bus.publish('status', subjectFor('status', 't', 'd0'), { tenantId: 't', deviceId: 'd0', online: false, lastConnect: 1_000, lastDisconnect: now, lastActivity: 1_000 });
  await flush();
  assert.deepEqual(logger.lines.slice(3).map((l) => l.msg), ['device disconnected']);
  log.stop();
  assert.deepEqual(logger.lines.at(-1), { msg: '7 more "device connected" events not logged', obj: { kind: 'device connected', suppressed: 7 } });

  const second = new EventLog({ bus, clock, logger });
  second.start();
  const alarm = { id: 'a1', type: 'Overheat', severity: 'CRITICAL' } as unknown as Alarm;
  await bus.publish('alarm', subjectFor('alarm', 't', 'd1'), { tenantId: 't', deviceId: 'd1', action: 'raised', alarm });
  await bus.publish('alarm', subjectFor('alarm', 't', 'd1'), { tenantId: 't', deviceId: 'd1', action: 'repeated', alarm });
  await bus.publish('alarm', subjectFor('alarm', 't', 'd1'), { tenantId: 't', deviceId: 'd1', action: 'cleared', alarm });
  const command = (status: Command['status']): Command => ({ id: 'c1', status, method: 'reboot' }) as unknown as Command;
  for (const status of ['QUEUED', 'SENT', 'SUCCESSFUL', 'EXPIRED'] as const) {
    await bus.publish('command', subjectFor('command', 't', 'd1'), { tenantId: 't', deviceId: 'd1', command: command(status) });
  }
  await flush();
  second.stop();
  const tail = logger.lines.slice(-5);
  assert.deepEqual(tail.map((l) => l.msg), ['alarm raised', 'alarm cleared', 'command sent', 'command answered', 'command expired']);
  assert.deepEqual(tail[0]?.obj, { alarmId: 'a1', deviceId: 'd1', type: 'Overheat', severity: 'CRITICAL' });
  assert.deepEqual(tail[2]?.obj, { commandId: 'c1', deviceId: 'd1', method: 'reboot', status: 'SENT' });
});
