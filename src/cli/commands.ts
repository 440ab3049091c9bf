// What each command accepts and says about itself in --help.
import type { ParseArgsOptionsConfig } from 'node:util';
import { CONFIG_DEFAULTS } from '../config.ts';
import type { ExitCode } from './exit-codes.ts';
import { NETWORK_HELP, NETWORK_OPTIONS } from './network-options.ts';

type Values = Record<string, unknown>;

interface CommandSpec {
  summary: string;
  help: string;
  options: ParseArgsOptionsConfig;
  /** Whether the command takes arguments besides its options. */
  positionals?: boolean;
  run(values: Values, positionals: string[]): Promise<ExitCode>;
}

const d = CONFIG_DEFAULTS;
const ENVIRONMENT = `Environment:
  DATABASE_URL                 postgres:// URL of the target database; unset: the embedded PGlite
  PGLITE_DIR                   where the embedded database lives, default ${d.PGLITE_DIR}
  WECOM_CORP_ID                the upstream corp's id (required)
  WECOM_CORP_SECRET            the secret of its app (required; never logged)
  WECOM_API_BASE               default ${d.WECOM_API_BASE}
  WECOM_RATE_LIMIT_PER_MIN     calls per minute per endpoint, default ${d.WECOM_RATE_LIMIT_PER_MIN}
  WECOM_RATE_LIMIT_PER_HOUR    calls per hour per endpoint, default ${d.WECOM_RATE_LIMIT_PER_HOUR}
  WECOM_CONCURRENCY            requests in flight at most, default ${d.WECOM_CONCURRENCY}
  WECOM_TIMEOUT_MS             per request, default ${d.WECOM_TIMEOUT_MS}
  WECOM_MAX_ATTEMPTS           per call including the first, default ${d.WECOM_MAX_ATTEMPTS}
  WECOM_RATE_LIMIT_PAUSE_MS    pause of an endpoint after errcode 45009, default ${d.WECOM_RATE_LIMIT_PAUSE_MS}
  SYNC_PAGE_SIZE               corps asked for per page, default ${d.SYNC_PAGE_SIZE}
  SYNC_CHAIN_CONCURRENCY       chains crawled at once, default ${d.SYNC_CHAIN_CONCURRENCY}
  SYNC_DETAILS                 changed | all | none: which corps get get_chain_corpinfo, default ${d.SYNC_DETAILS}
  SYNC_DETAILS_MAX_AGE_HOURS   with "changed", re-fetch details older than a per-corp age between half of
                               this and this, default ${d.SYNC_DETAILS_MAX_AGE_HOURS}
  SHUTDOWN_TIMEOUT_MS          after SIGTERM/SIGINT/SIGHUP, exit within this, default ${d.SHUTDOWN_TIMEOUT_MS}
  PUSHGATEWAY_URL              push metrics to this Prometheus Pushgateway at the end of "run"
  LOG_LEVEL                    fatal | error | warn | info | debug | trace | silent, default info`;

const EXIT_CODES = `Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad configuration, 4 WeCom refused the credentials,
  5 database unreachable, 6 sync failed, 7 sync partial, 8 another sync holds the lock, 9 aborted by a signal.`;

export const COMMANDS = {
  migrate: {
    summary: 'apply pending database migrations and exit',
    help: 'Usage: wecom-chain-sync migrate\n\nApplies pending migrations to DATABASE_URL, or to the embedded database under PGLITE_DIR when it is not set. Safe to run from several processes at once.\n\nExit codes: 0 ok, 3 bad configuration, 5 database unreachable, 8 the embedded database is open in another process, 9 stopped by a signal.',
    options: {},
    run: async () => (await import('./migrate-command.ts')).migrateCommand(),
  },
  run: {
    summary: 'apply migrations, sync once, exit',
    help: `Usage: wecom-chain-sync run\n\nApplies pending migrations, then copies every chain, group and corp the app can see\ninto the wecom schema, and records the run in wecom.sync_runs.\n\n${ENVIRONMENT}\n\n${EXIT_CODES}`,
    options: {},
    run: async () => (await import('./run-command.ts')).runCommand(),
  },
  schedule: {
    summary: 'keep running, sync on a cron schedule, serve metrics and probes',
    help: `Usage: wecom-chain-sync schedule [--now]

Applies pending migrations, then runs a sync on the cron expression SYNC_CRON in time zone SYNC_TZ. A tick
that comes while a sync is still running is skipped and logged. Serves /metrics, /healthz and /readyz on
METRICS_PORT. SIGTERM, SIGINT or SIGHUP stops it cleanly (see "run --help").
Options:
  --now       also sync once at start

Environment, besides those of "run":
  SYNC_CRON      cron expression, five fields or six with seconds (required), e.g. "0 * * * *"
  SYNC_TZ        IANA time zone of the expression, default ${d.SYNC_TZ}
  METRICS_PORT   default ${d.METRICS_PORT}

Exit codes: 0 stopped by a signal while starting or idle (or once the sync had merged every chain), 9 stopped
  while a sync was running (recorded as aborted),
  3 bad configuration, 5 database unreachable at start, 8 the embedded database is open in another process.`,
    options: { now: { type: 'boolean' } },
    run: async (values) => (await import('./schedule-command.ts')).scheduleCommand(values),
  },
  simulate: {
    summary: 'start the built-in WeCom simulator on a port',
    help: `Usage: wecom-chain-sync simulate [options]

Serves a generated upstream/downstream network over WeCom's API, so the job can be tried without credentials.
Options:
  --port N          default 8080 (0 picks a free port)
  --host H          default 127.0.0.1
${NETWORK_HELP}
  --rate-limit-per-min N  calls per endpoint per minute before errcode 45009, default 10000 (WeCom's)
  --rate-limit-per-hour N calls per endpoint per hour before an hour of 45009, default 150000 (WeCom's)
  --max-concurrent N      requests in flight before errcode 45033, default 200 (a few WeCom APIs state 5, or 1)
  --corp-id ID      default wwsimulator
  --secret S        default simulator-secret`,
    options: {
      ...NETWORK_OPTIONS,
      port: { type: 'string' },
      host: { type: 'string' },
      'rate-limit-per-min': { type: 'string' },
      'rate-limit-per-hour': { type: 'string' },
      'max-concurrent': { type: 'string' },
      'corp-id': { type: 'string' },
      secret: { type: 'string' },
    },
    run: async (values) => (await import('./simulate-command.ts')).simulateCommand(values),
  },
  demo: {
    summary:
      'sync a simulated network into the embedded database and print the report: no credentials needed',
    help: `Usage: wecom-chain-sync demo [options]

Starts the built-in WeCom simulator in this process, runs a full sync of its network into the configured
database (the embedded PGlite under ./data/ when DATABASE_URL is not set), showing progress, then prints the
chain summary, the largest groups and the sync freshness. The simulated app may make far more calls a minute
than WeCom allows a real one, so the demo is bounded by latency and concurrency.
Options:
${NETWORK_HELP}

Exit codes: as for "run".`,
    options: NETWORK_OPTIONS,
    run: async (values) => (await import('./demo-command.ts')).demoCommand(values),
  },
  sql: {
    summary: 'run one read-only query against the configured database and print it as a table',
    help: `Usage: wecom-chain-sync sql "<query>" [--json]

Runs the query in a read-only transaction against DATABASE_URL, or the embedded database when it is not set,
and prints an aligned table (--json: the rows as a JSON array of objects, so each column needs its own name).
Times, intervals and byteas are printed as PostgreSQL prints them, times to the microsecond, so a printed
value can be pasted back into a query. Stopped by a signal, it stops the query on the server too.
A SELECT, WITH, VALUES or TABLE query is read through a cursor in batches of about 2 MB (up to 1,000 rows),
into memory and past 4 MB into a temporary file in TMPDIR (deleted at once; a result takes about its printed
size there), and printed once complete, after the transaction is rolled back: a query that fails prints
nothing, a slow reader holds no transaction open, and memory does not grow with the number of rows (a batch
of rows wider than those before it, up to 1,000, is held at once).
Read-only means no table can change, and the rollback undoes what read-only mode lets through (a large object,
a notification). COPY is refused, but what is not transactional (pg_terminate_backend, pg_stat_reset, a DO
block's calls of them) still runs with the connecting role's rights: for analysts, connect as a role that
grant-readonly made.
Example: wecom-chain-sync sql "select chain_name, corps_joined, corps_pending from wecom.chain_summary"

Exit codes: 0 ok, 2 usage or the query failed, 3 bad configuration (or the database is not migrated, or TMPDIR
  has no room for a large result), 5 database unreachable, 8 the embedded database is open in another process, 9 stopped by a signal.`,
    options: { json: { type: 'boolean' } },
    positionals: true,
    run: async (values, positionals) => (await import('./sql-command.ts')).sqlCommand(positionals, values),
  },
  report: {
    summary: 'print the chain summary and sync freshness (--json for scripts)',
    help: `Usage: wecom-chain-sync report [--json]

Prints wecom.chain_summary (per chain: groups, joined and pending corps, qualification of the joined ones,
joins in the last 7 and 30 days, last complete sync) and wecom.sync_freshness (per upstream corp: last
successful run and its age, the latest run's status) as aligned tables. Reads only; needs SELECT on them.
Options:
  --json      one JSON object {"chains": [...], "freshness": [...]} on stdout instead (times in ISO 8601, UTC)

Environment:
  DATABASE_URL   postgres:// URL of the database; unset: the embedded PGlite under PGLITE_DIR (./data)

Exit codes: 0 ok, 2 usage, 3 bad configuration (or the database is not migrated), 5 database unreachable,
  8 the embedded database is open in another process, 9 stopped by a signal.`,
    options: { json: { type: 'boolean' } },
    run: async (values) => (await import('./report-command.ts')).reportCommand(values),
  },
  'grant-readonly': {
    summary: 'create a read-only role for BI that can SELECT everything in schema wecom',
    help: `Usage: wecom-chain-sync grant-readonly <role>

Creates <role> (NOLOGIN) unless it exists, and grants it USAGE on schema wecom, SELECT on every table and
view in it, and SELECT on the tables and views the role running this command creates there later (ALTER
DEFAULT PRIVILEGES): run it as the role that runs the migrations. Safe to run again.
Let a login use it with: GRANT <role> TO some_login_user;
Role names: 1 to 63 lower-case letters, digits, "_", "$" or "-", starting with a letter or "_".

Environment:
  DATABASE_URL   postgres:// URL of the database (required)

Exit codes: 0 ok, 2 usage (bad role name), 3 bad configuration (not migrated, or privileges missing),
  5 database unreachable, 9 stopped by a signal.`,
    options: {},
    positionals: true,
    run: async (_values, positionals) => (await import('./grant-command.ts')).grantCommand(positionals),
  },
  'compile-cache': {
    summary: 'fill the directory NODE_COMPILE_CACHE names, so later starts skip TypeScript stripping',
    help: `Usage: wecom-chain-sync compile-cache

Loads every module of the CLI once, so that Node stores them stripped of their types and compiled in the
directory NODE_COMPILE_CACHE names. Later processes with the same NODE_COMPILE_CACHE, Node version and
user id (heap flags may differ) start sooner and never load Node's TypeScript stripper: about 10 MB less peak memory
for a sync. The Dockerfile runs it when the image is built. A cache that is missing, stale, filled by
another user or read-only costs only that.

Exit codes: 0 ok, 3 bad configuration (NODE_COMPILE_CACHE unset or not a usable directory).`,
    options: {},
    run: async () => (await import('./compile-cache-command.ts')).compileCacheCommand(),
  },
} satisfies Record<string, CommandSpec>;

export type Command = keyof typeof COMMANDS;

export function usage(command?: Command): string {
  if (command) return COMMANDS[command].help;
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(15)} ${c.summary}`)
    .join('\n');
  return `Usage: wecom-chain-sync <command> [options]\n\nCommands:\n${list}\n\nRun "wecom-chain-sync <command> --help" for details.\n\n${EXIT_CODES}`;
}
