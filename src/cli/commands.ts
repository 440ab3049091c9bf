// What each command accepts and says about itself in --help.
import type { ParseArgsOptionsConfig } from 'node:util';
import { CONFIG_DEFAULTS } from '../config.ts';
import type { ExitCode } from './exit-codes.ts';

type Values = Record<string, unknown>;

interface CommandSpec {
  summary: string;
  help: string;
  options: ParseArgsOptionsConfig;
  run(values: Values): Promise<ExitCode>;
}

export class UsageError extends Error {
  override name = 'UsageError';
  readonly command: Command | undefined;
  constructor(message: string, command?: Command) {
    super(message);
    this.command = command;
  }
}

const d = CONFIG_DEFAULTS;
const ENVIRONMENT = `Environment:
  DATABASE_URL                 postgres:// URL of the target database (required)
  WECOM_CORP_ID                the upstream corp's id (required)
  WECOM_CORP_SECRET            the secret of its app (required; never logged)
  WECOM_API_BASE               default ${d.WECOM_API_BASE}
  WECOM_RATE_LIMIT_PER_MIN     calls per minute per endpoint, default ${d.WECOM_RATE_LIMIT_PER_MIN}
  WECOM_CONCURRENCY            requests in flight at most, default ${d.WECOM_CONCURRENCY}
  WECOM_TIMEOUT_MS             per request, default ${d.WECOM_TIMEOUT_MS}
  WECOM_MAX_ATTEMPTS           per call including the first, default ${d.WECOM_MAX_ATTEMPTS}
  WECOM_RATE_LIMIT_PAUSE_MS    pause of an endpoint after errcode 45009, default ${d.WECOM_RATE_LIMIT_PAUSE_MS}
  SYNC_PAGE_SIZE               corps asked for per page, default ${d.SYNC_PAGE_SIZE}
  SYNC_CHAIN_CONCURRENCY       chains crawled at once, default ${d.SYNC_CHAIN_CONCURRENCY}
  SYNC_DETAILS                 changed | all | none: which corps get get_chain_corpinfo, default ${d.SYNC_DETAILS}
  SYNC_DETAILS_MAX_AGE_HOURS   with "changed", re-fetch details older than this, default ${d.SYNC_DETAILS_MAX_AGE_HOURS}
  SHUTDOWN_TIMEOUT_MS          after SIGTERM/SIGINT, exit within this, default ${d.SHUTDOWN_TIMEOUT_MS}
  PUSHGATEWAY_URL              push metrics to this Prometheus Pushgateway at the end of "run"
  LOG_LEVEL                    fatal | error | warn | info | debug | trace | silent, default info`;

const EXIT_CODES = `Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad configuration, 4 WeCom refused the credentials,
  5 database unreachable, 6 sync failed, 7 sync partial, 8 another sync holds the lock, 9 aborted by a signal.`;

export const COMMANDS = {
  migrate: {
    summary: 'apply pending database migrations and exit',
    help: 'Usage: wecom-chain-sync migrate\n\nApplies pending migrations to DATABASE_URL. Safe to run from several processes at once.',
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
METRICS_PORT. SIGTERM or SIGINT stops it cleanly (see "run --help").
Options:
  --now       also sync once at start

Environment, besides those of "run":
  SYNC_CRON      cron expression, five fields or six with seconds (required), e.g. "0 * * * *"
  SYNC_TZ        IANA time zone of the expression, default ${d.SYNC_TZ}
  METRICS_PORT   default ${d.METRICS_PORT}

Exit codes: 0 stopped by a signal while idle, 9 stopped while a sync was running (recorded as aborted),
  3 bad configuration, 5 database unreachable at start.`,
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
  --seed N          network seed, default 1
  --chains N        default 3
  --groups N        groups across all chains, default 300
  --corps N         corps across all chains, default 30000
  --pending R       share of corps not yet joined, 0..1, default 0.15
  --depth N         deepest group level, 1..6, default 5
  --latency-ms N    added to every answer, default 20
  --fault-rate R    share of requests that fail transiently (-1, 45033, 502, dropped), default 0
  --rate-limit-per-min N  calls per endpoint per minute before errcode 45009, default 10000 (WeCom's)
  --corp-id ID      default wwsimulator
  --secret S        default simulator-secret`,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      chains: { type: 'string' },
      groups: { type: 'string' },
      corps: { type: 'string' },
      pending: { type: 'string' },
      depth: { type: 'string' },
      'latency-ms': { type: 'string' },
      'fault-rate': { type: 'string' },
      'rate-limit-per-min': { type: 'string' },
      'corp-id': { type: 'string' },
      secret: { type: 'string' },
    },
    run: async (values) => (await import('./simulate-command.ts')).simulateCommand(values),
  },
} satisfies Record<string, CommandSpec>;

export type Command = keyof typeof COMMANDS;

export function usage(command?: Command): string {
  if (command) return COMMANDS[command].help;
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
    .join('\n');
  return `Usage: wecom-chain-sync <command> [options]\n\nCommands:\n${list}\n\nRun "wecom-chain-sync <command> --help" for details.\n\n${EXIT_CODES}`;
}
