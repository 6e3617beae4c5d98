/**
 * `continuum simulate smsc`: the simulated SMSC on its own, with handsets and device models from
 * a YAML file and optionally a GSM modem emulator on a pty pair, until SIGINT/SIGTERM.
 * The CLI calls runSmscSimulator(argv, io) (argv after `simulate smsc`); it resolves with the
 * exit code: at once when it cannot start, after SIGINT/SIGTERM and a clean stop otherwise.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { startModemEmulator, type ModemEmulator } from './modem.js';
import { gsmPumpController, gsmTracker } from './models.js';
import { openPtyPair, type PtyPair } from './pty.js';
import { startSmscSimulator, type SimLogger, type SmscSimulator } from './smsc.js';

export const SMSC_HELP = `Usage: continuum simulate smsc [--port P] [--host H] [--system-id ID --password PW]
                              [--handsets FILE] [--modem-number N] [--receipt-delay-ms MS]

Runs a simulated SMSC (SMPP 3.4 server) for ESMEs such as the edge's SMS connector, with
simulated phones from FILE and, with --modem-number, a GSM modem emulator whose serial port
(a pty) is printed. See docs/EDGE.md (SMS).

  --port P              SMPP port (default 2775; 0 = any free port)
  --host H              listen address (default 127.0.0.1)
  --system-id, --password   credentials binds must use (default: any)
  --handsets FILE       YAML list: - { number: "+4917…", model: handset|pump|tracker, to: "+49…", intervalS: 60 }
  --modem-number N      start a GSM modem emulator with this SIM number
  --receipt-delay-ms MS delay of delivery receipts (default 0)`;

const HandsetsSchema = Type.Array(
  Type.Object(
    {
      number: Type.String({ pattern: '^\\+?[0-9]{3,20}$' }),
      model: Type.Union([Type.Literal('handset'), Type.Literal('pump'), Type.Literal('tracker')], { default: 'handset' }),
      /** tracker: where positions go */
      to: Type.Optional(Type.String()),
      intervalS: Type.Number({ minimum: 0.1, default: 60 }),
    },
    { additionalProperties: false },
  ),
);
type Handsets = Static<typeof HandsetsSchema>;

export function loadHandsets(file: string): Handsets {
  const raw: unknown = parseYaml(readFileSync(file, 'utf8'));
  const value = Value.Default(HandsetsSchema, Value.Convert(HandsetsSchema, raw ?? []));
  const errors = [...Value.Errors(HandsetsSchema, value)].slice(0, 10).map((e) => `${e.path || '(root)'}: ${e.message}`);
  if (errors.length > 0) throw new Error(`${file}: ${errors.join('; ')}`);
  const list = value as Handsets;
  list.forEach((h, i) => {
    if (h.model === 'tracker' && !h.to) throw new Error(`${file}: [${i}].to: a tracker needs the number it reports to`);
  });
  return list;
}

function lineLogger(stream: NodeJS.WritableStream): SimLogger {
  const line = (level: string) => (obj: object, msg?: string) => void stream.write(`${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
  return { info: line('info'), warn: line('warn') };
}

export async function runSmscSimulator(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'system-id': { type: 'string' },
        password: { type: 'string' },
        handsets: { type: 'string' },
        'modem-number': { type: 'string' },
        'receipt-delay-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`continuum simulate smsc: ${(err as Error).message}\n${SMSC_HELP}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(SMSC_HELP + '\n');
    return 0;
  }
  const logger = lineLogger(io.stdout);
  let smsc: SmscSimulator | undefined;
  let pty: PtyPair | undefined;
  let modem: ModemEmulator | undefined;
  const closers: (() => void)[] = [];
  try {
    const handsets = values.handsets ? loadHandsets(values.handsets) : [];
    smsc = await startSmscSimulator({
      host: values.host ?? '127.0.0.1',
      port: Number(values.port ?? 2775),
      ...(values['system-id'] !== undefined ? { systemId: values['system-id'] } : {}),
      ...(values.password !== undefined ? { password: values.password } : {}),
      receiptDelayMs: Number(values['receipt-delay-ms'] ?? 0),
      logger,
    });
    io.stdout.write(`SMSC listening on ${smsc.host}:${smsc.port}\n`);
    for (const h of handsets) {
      if (h.model === 'pump') closers.push(gsmPumpController(smsc, h.number).close);
      else if (h.model === 'tracker') closers.push(gsmTracker(smsc, h.number, { to: h.to as string, intervalMs: h.intervalS * 1000 }).close);
      else {
        const phone = smsc.handset(h.number, (text, from) => io.stdout.write(`SMS to ${h.number} from ${from}: ${text}\n`));
        closers.push(() => phone.close());
      }
      io.stdout.write(`${h.model} ${h.number}\n`);
    }
    if (values['modem-number']) {
      pty = await openPtyPair();
      modem = await startModemEmulator({ path: pty.modemSide, smsc, number: values['modem-number'], logger });
      io.stdout.write(`GSM modem ${values['modem-number']} on ${pty.hostSide}\n`);
    }
  } catch (err) {
    io.stderr.write(`continuum simulate smsc: ${(err as Error).message}\n`);
    await modem?.close();
    await pty?.close();
    await smsc?.close();
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  closers.forEach((c) => c());
  await modem?.close();
  await pty?.close();
  await smsc.close();
  return 0;
}
