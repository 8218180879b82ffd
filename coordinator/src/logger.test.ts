/**
 * The coordinator log: JSON lines through pino, filtered by level, and LOG_LEVEL checked at
 * start-up like every other setting.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.ts';
import { createLogger, type LogLevel, logFunction, logLevelFrom } from './logger.ts';

/** A logger writing into memory; returns the parsed lines. */
function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: logFunction(createLogger(level, sink)), lines };
}

describe('coordinator log', () => {
  it('writes one JSON object a line, info by default, with the level asked for', () => {
    const { log, lines } = capture('info');
    log('job j1 created');
    log('tick failed: boom', 'error');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'job j1 created', service: 'gridtab-coordinator' });
    expect(typeof lines[0].time).toBe('number');
    expect(lines[1]).toMatchObject({ level: 50, msg: 'tick failed: boom' });
  });

  it('drops messages below the configured level', () => {
    const { log, lines } = capture('warn');
    log('routine');
    log('detail', 'debug');
    log('careful', 'warn');
    expect(lines.map((l) => l.msg)).toEqual(['careful']);
    const silent = capture('silent');
    silent.log('anything', 'fatal');
    expect(silent.lines).toEqual([]);
  });

  it('reads LOG_LEVEL, and refuses a level it does not know', () => {
    expect(logLevelFrom(undefined)).toBe('info');
    expect(logLevelFrom('DEBUG')).toBe('debug');
    expect(configFromEnv({ LOG_LEVEL: 'warn', ADMIN_TOKEN: 't' }).logLevel).toBe('warn');
    expect(() => configFromEnv({ LOG_LEVEL: 'verbose', ADMIN_TOKEN: 't' })).toThrow(
      /LOG_LEVEL must be one of/,
    );
  });
});
