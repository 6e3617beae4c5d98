/**
 * Where the platform's log lines go and in what form: coloured, human-readable lines on a
 * terminal (pino-pretty), one JSON object per line otherwise (files, journald, log shippers).
 * CONTINUUM_LOG_FORMAT=json|pretty overrides the guess.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export function logFormat(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): LogFormat {
  const chosen = env.CONTINUUM_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return stdoutIsTty ? 'pretty' : 'json';
}

export function createRootLogger(level: string, format: LogFormat): PinoLogger {
  const options = { level, base: { app: 'continuum' } };
  if (format === 'json') return pino(options);
  // Synchronous, in this thread: a line is written before the process exits (shutdown complete).
  const stream: DestinationStream = pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l', singleLine: true, ignore: 'pid,hostname,app' });
  return pino(options, stream);
}
