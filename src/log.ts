import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type Pretty from 'pino-pretty';
import { ConfigError, quoted } from './config.ts';

export type { Logger };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  /** On a terminal, where readable lines go instead of straight to stderr (a progress display's stream). */
  terminal?: Writable;
}

/**
 * JSON lines on stderr, so stdout stays free for what a command prints for people and scripts; readable
 * lines instead when a person is watching the terminal. Synchronous writes: a log line written just
 * before exit is never lost.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = process.env.LOG_LEVEL?.trim() || 'info';
  if (!LEVELS.includes(level))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LEVELS.join(', ')}, got ${quoted(level)}`);
  const destination = process.stderr.isTTY
    ? prettyPrinter(options.terminal ?? 2)
    : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: { app: 'wecom-chain-sync' } }, destination);
}

// Loaded only for a terminal: a job's logs go to a pipe, and these ~30 modules would cost it 20 ms of start-up.
function prettyPrinter(destination: Writable | 2): ReturnType<typeof Pretty> {
  const pretty: typeof Pretty = createRequire(import.meta.url)('pino-pretty');
  return pretty({ destination, sync: true, colorize: true, ignore: 'app,pid,hostname' });
}
