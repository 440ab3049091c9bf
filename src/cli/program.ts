// The command line: parses arguments, turns every outcome into one of the documented exit codes.
import { inspect, parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import { isDatabaseUnavailable, settingsRefusal, unavailableReason } from '../db/errors.ts';
import { DatabaseInUseError } from '../db/pglite-dir.ts';
import { LockHeldError } from '../db/run-lock.ts';
import { WecomRefusedError } from '../wecom/errors.ts';
import { COMMANDS, type Command, usage } from './commands.ts';
import { EXIT, type ExitCode, ExitError, UsageError } from './exit-codes.ts';
import { ShutdownRequested } from './shutdown.ts';

const PROGRAM = 'wecom-chain-sync';

function fail(message: string, code: ExitCode): ExitCode {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
  return code;
}

/** Maps anything a command threw to the exit code and the one line the user sees. */
function exitFor(err: unknown): ExitCode {
  if (err instanceof ExitError) return fail(err.message, err.code);
  if (err instanceof UsageError) return fail(`${err.message}\n\n${usage(err.command)}`, EXIT.usage);
  if (err instanceof LockHeldError || err instanceof DatabaseInUseError)
    return fail(err.message, EXIT.locked);
  if (err instanceof ConfigError) return fail(`configuration error: ${err.message}`, EXIT.config);
  if (err instanceof WecomRefusedError)
    return fail(`WeCom refused the credentials: ${err.message}`, EXIT.refused);
  // A stop before any run began (waiting for another process's migrations): nothing to record.
  if (err instanceof ShutdownRequested) return fail(`${err.message} before a sync started`, EXIT.aborted);
  if (isDatabaseUnavailable(err))
    return fail(`database unreachable: ${unavailableReason(err as Error)}`, EXIT.database);
  const settings = settingsRefusal(err);
  if (settings)
    return fail(
      `DATABASE_URL: the server refused a setting the connection asks for (a parameter of the URL such as options=-c or statement_timeout, or PGOPTIONS): ${settings.message}`,
      EXIT.config,
    );
  return fail(
    `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : inspect(err, { breakLength: Number.POSITIVE_INFINITY })}`,
    EXIT.internal,
  );
}

async function main(argv: string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !Object.hasOwn(COMMANDS, topic))
      return exitFor(new UsageError(`unknown command "${topic}"`));
    process.stdout.write(`${usage(topic as Command | undefined)}\n`);
    return EXIT.ok;
  }
  // Own keys only: "toString" or "constructor" are in every object.
  if (!Object.hasOwn(COMMANDS, name)) return exitFor(new UsageError(`unknown command "${name}"`));
  const command = COMMANDS[name as Command];
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: 'positionals' in command && command.positionals,
    });
    if (values.help) {
      process.stdout.write(`${usage(name as Command)}\n`);
      return EXIT.ok;
    }
    return await command.run(values, positionals);
  } catch (err) {
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return exitFor(new UsageError(err.message, name as Command));
    }
    return exitFor(err);
  }
}

// A reader that has gone (`sql "…" | head`: EPIPE; a terminal hung up: EIO) ends the output, as SIGPIPE would,
// not in an unhandled 'error'.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err;
  process.exit(process.exitCode ?? EXIT.ok);
});
// Whatever failed a message (a reader gone, a terminal hung up mid-run), nobody can read it: the run goes on
// to its end and its record, and the exit code still says what happened.
process.stderr.on('error', () => {});

process.exitCode = await main(process.argv.slice(2));
// Every command has finished its work here. A handle left open must not keep the process alive: node-postgres
// keeps the socket of a login it gave up on (a server asking for a password it does not have), and the
// command would then never exit. First what it printed is written out: on a pipe to a slow reader (sql into
// less, report --json into a script) stdout queues what the pipe cannot take yet.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
// At once, not when the event loop drains: Node's handlers are gone while it tears down after the loop, and a
// stop signal then would kill the process instead of leaving the exit code decided.
process.exit();
