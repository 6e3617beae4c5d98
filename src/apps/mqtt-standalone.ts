/**
 * The broker alone, for conformance runs and benchmarks (a composition root of its own, so it
 * lives in apps/ like the platform's):
 *
 *   node --import tsx src/apps/mqtt-standalone.ts --port 1883 --profile conformance
 *
 * Flags: --port N, --host H, --profile default|conformance, --max-payload-bytes N,
 * --tls-port N --tls-cert FILE --tls-key FILE, --log-level L, --receive-maximum N (MQTT 5 Receive
 * Maximum we advertise and enforce; default 65535). Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { createMqttTransport } from '../adapters/transport/mqtt/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '1883' },
    host: { type: 'string', default: '0.0.0.0' },
    profile: { type: 'string', default: 'conformance' },
    'max-payload-bytes': { type: 'string' },
    'tls-port': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'receive-maximum': { type: 'string' },
  },
});

const config = loadConfig({
  flags: {
    'mqtt-port': values.port,
    host: values.host,
    'mqtt-profile': values.profile,
    'max-payload-bytes': values['max-payload-bytes'],
    'mqtts-port': values['tls-port'],
    'tls-cert': values['tls-cert'],
    'tls-key': values['tls-key'],
    'log-level': values['log-level'],
  },
});
const logger = pino({ level: config.log.level }, pino.destination(2));
const receiveMaximum = values['receive-maximum'] ? Number(values['receive-maximum']) : undefined;
const transport = createMqttTransport({ config, logger, tuning: { receiveMaximum } });

try {
  const addresses = await transport.start();
  for (const a of addresses) console.log(`${a.name} ${a.url}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

const stop = (): void => {
  transport.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
