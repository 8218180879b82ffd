/**
 * The coordinator's log: pino, one JSON object a line on stdout (time, level, pid, msg), so a
 * log shipper or `jq` reads it and LOG_LEVEL filters it. Every module keeps logging through the
 * plain `log(msg)` function it is handed (`co.log`); this file turns that function into pino
 * calls, with an optional level for the few messages that are not `info`.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What modules are handed: a message, at `info` unless told otherwise. */
export type LogFn = (msg: string, level?: Exclude<LogLevel, 'silent'>) => void;

/** Reads LOG_LEVEL (default info); an unknown name is a start-up error, not a silent default. */
export function logLevelFrom(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${value}'`);
  return level as LogLevel;
}

/** A pino logger for one coordinator; tests pass a destination to read what it wrote. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'gridtab-coordinator', pid: process.pid } };
  return destination ? pino(options, destination) : pino(options);
}

/** The `log(msg, level?)` function modules use, writing through the given pino logger. */
export function logFunction(logger: Logger): LogFn {
  return (msg, level = 'info') => logger[level](msg);
}
