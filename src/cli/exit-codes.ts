// The process's exit codes: documented in the README, relied on by schedulers and alerting.
import type { Command } from './commands.ts';

export const EXIT = {
  ok: 0,
  /** A bug or an error nobody classified. */
  internal: 1,
  /** Unknown command or option. */
  usage: 2,
  /** A configuration variable is missing or invalid. */
  config: 3,
  /** WeCom refused the credentials or the app's permissions (40001, 40013, 48002, 60020). */
  refused: 4,
  /** The database could not be reached or refused the login, or kept a migration waiting for its tables. */
  database: 5,
  /** The sync ran and no chain could be synced, or it stopped on an error: chains merged before it are kept. */
  failed: 6,
  /** Some chains synced, some did not; those that did not keep their previous rows. */
  partial: 7,
  /** Another sync of the same corp holds the lock; this one wrote nothing. */
  locked: 8,
  /** Stopped by SIGTERM, SIGINT or SIGHUP; the run is recorded as aborted, finished chains are kept. */
  aborted: 9,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command's outcome that is not success: the exit code and the one line to print. */
export class ExitError extends Error {
  override name = 'ExitError';
  readonly code: ExitCode;
  constructor(code: ExitCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Wrong command line: the message, then the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly command: Command | undefined;
  constructor(message: string, command?: Command) {
    super(message);
    this.command = command;
  }
}
