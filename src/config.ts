// Configuration comes from the environment, is parsed once at start-up, and is read-only afterwards.
// Each problem is reported as one line naming the variable, before any work starts.
import { databaseUrlProblem, parsableDatabaseUrl } from './database-url.ts';
import type { DatabaseConfig } from './db/database.ts';
import type { WecomClientOptions } from './wecom/client.ts';

export type DetailsMode = 'changed' | 'all' | 'none';

/** The client's options the environment sets: the backoff keeps the client's defaults, the job adds the rest. */
export type WecomConfig = Omit<
  WecomClientOptions,
  'signal' | 'priorCalls' | 'backoffBaseMs' | 'backoffMaxMs'
>;

export interface SyncConfig {
  pageSize: number;
  /** Chains crawled at once; each holds one database connection while it is crawled. */
  chainConcurrency: number;
  details: DetailsMode;
  /** With details 'changed': also re-fetch details older than this. */
  detailsMaxAgeHours: number;
}

export interface Config {
  database: DatabaseConfig;
  wecom: WecomConfig;
  sync: SyncConfig;
  /** After SIGTERM, SIGINT or SIGHUP the process exits within this, whatever it is doing. */
  shutdownTimeoutMs: number;
  metrics: { port: number; pushgatewayUrl: string | null };
}

export interface ScheduleConfig {
  cron: string;
  timezone: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

/** A value as the message shows it: in quotes, with a newline or control character escaped, so it stays one line. */
export function quoted(value: string): string {
  return JSON.stringify(value);
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is required but not set');
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got ${quoted(raw)}`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${quoted(raw)}`);
  }
  return raw as T;
}

function url(name: string, raw: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);
  }
  return raw;
}

/** A Pushgateway URL: prom-client decodes its user name and password, and a stray % fails every push. */
function pushgatewayUrl(raw: string): string {
  const parsed = new URL(url('PUSHGATEWAY_URL', raw, ['http:', 'https:']));
  try {
    decodeURIComponent(parsed.username + parsed.password);
  } catch {
    throw new ConfigError(
      'PUSHGATEWAY_URL',
      'the user name or password is not valid percent-encoding (a % must be written %25)',
    );
  }
  return raw.replace(/\/+$/, '');
}

/** The variables parseConfig reads, with their defaults, for --help and the README. */
export const CONFIG_DEFAULTS = {
  WECOM_API_BASE: 'https://qyapi.weixin.qq.com',
  // WeCom allows 10,000 calls a minute and 150,000 an hour per API and corp; stay a little under both.
  WECOM_RATE_LIMIT_PER_MIN: 9_500,
  WECOM_RATE_LIMIT_PER_HOUR: 142_500,
  WECOM_CONCURRENCY: 16,
  WECOM_TIMEOUT_MS: 15_000,
  WECOM_MAX_ATTEMPTS: 4,
  WECOM_RATE_LIMIT_PAUSE_MS: 60_000,
  SYNC_PAGE_SIZE: 100,
  SYNC_CHAIN_CONCURRENCY: 4,
  SYNC_DETAILS: 'changed' as DetailsMode,
  SYNC_DETAILS_MAX_AGE_HOURS: 168,
  // Kubernetes sends SIGKILL 30 s after SIGTERM by default; finish first.
  SHUTDOWN_TIMEOUT_MS: 25_000,
  METRICS_PORT: 9464,
  SYNC_TZ: 'Asia/Shanghai',
  PGLITE_DIR: './data',
};

// Every variable of ours: those with defaults, and those without.
const KNOWN = new Set([
  ...Object.keys(CONFIG_DEFAULTS),
  'DATABASE_URL',
  'WECOM_CORP_ID',
  'WECOM_CORP_SECRET',
  'PUSHGATEWAY_URL',
  'SYNC_CRON',
  'LOG_LEVEL',
]);
// Prefixes no other program is likely to use (METRICS_ and SHUTDOWN_ are everybody's).
const OURS = /^(WECOM|SYNC|PGLITE)_/;
// What Kubernetes sets for each Service in the namespace (a Service named wecom-sync: WECOM_SYNC_PORT, …).
const SERVICE_LINK = /_SERVICE_(HOST|PORT)(_\w+)?$|_PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?$/;

export interface UnknownVariable {
  name: string;
  /** The variable it is closest to, when it looks like a misspelling of one. */
  meant: string | null;
}

/**
 * Variables named like ours that are none of ours: WECOM_CONCURENCY would otherwise be passed over without a
 * word, and the job run with the default.
 */
export function unknownVariables(env: Env): UnknownVariable[] {
  return Object.keys(env)
    .filter((name) => OURS.test(name) && !KNOWN.has(name) && !SERVICE_LINK.test(name))
    .sort()
    .map((name) => {
      const [best] = [...KNOWN]
        .map((known) => ({ known, d: editDistance(name, known) }))
        .sort((a, b) => a.d - b.d);
      const close = best && (best.d <= 3 || name.startsWith(best.known) || best.known.startsWith(name));
      return { name, meant: close ? best.known : null };
    });
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

export function parseDatabaseUrl(env: Env): string {
  const raw = required(env, 'DATABASE_URL');
  const parsable = url('DATABASE_URL', parsableDatabaseUrl(raw), ['postgres:', 'postgresql:']);
  const problem = databaseUrlProblem(parsable, env.PGPORT);
  if (problem) throw new ConfigError(problem.variable, problem.message);
  return raw;
}

/** DATABASE_URL set means a real server, always; unset means the embedded PGlite under PGLITE_DIR. */
export function parseDatabase(env: Env): DatabaseConfig {
  // Set but empty is a template or secret that was never filled in, not a wish for the embedded database:
  // that would sync into a local directory and exit 0.
  if (env.DATABASE_URL !== undefined && !env.DATABASE_URL.trim())
    throw new ConfigError('DATABASE_URL', 'is set but empty; unset it for the embedded database');
  if (env.DATABASE_URL !== undefined) return { driver: 'postgres', url: parseDatabaseUrl(env) };
  const dir = env.PGLITE_DIR?.trim() || CONFIG_DEFAULTS.PGLITE_DIR;
  // PGlite reads memory://, file:// and idb:// as its own: the data would go elsewhere than the lock, or nowhere.
  if (dir.includes('://'))
    throw new ConfigError('PGLITE_DIR', `must be a directory's path, not a URL: ${quoted(dir)}`);
  return { driver: 'pglite', dir };
}

// Node's debug output for these prints every request's URL, and WeCom's carry the corp secret or an access
// token (net's also prints a Pushgateway URL's password; stream's, the first bytes of every answer read, a
// token's included). Only Node reads NODE_DEBUG, at start-up: the job
// cannot turn it off, so it refuses to start.
const LEAKY_DEBUG = ['undici', 'fetch', 'net', 'stream'];

function checkNodeDebug(env: Env): void {
  const raw = env.NODE_DEBUG;
  if (!raw) return;
  // Node's own matching (lib/internal/util/debuglog.js): names separated by commas, * as a wildcard, any case.
  const names = raw
    .replace(/[|\\{}()[\]^$+?.]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll(',', '$|^');
  const enabled = new RegExp(`^${names}$`, 'i');
  const leaky = LEAKY_DEBUG.find((name) => enabled.test(name));
  if (leaky) {
    throw new ConfigError(
      'NODE_DEBUG',
      `enables Node's ${leaky} debug output, which would print the corp secret or access tokens: unset it`,
    );
  }
}

export function parseConfig(env: Env): Config {
  checkNodeDebug(env);
  const d = CONFIG_DEFAULTS;
  const apiBase = url('WECOM_API_BASE', env.WECOM_API_BASE?.trim() || d.WECOM_API_BASE, ['https:', 'http:']);
  // Only its origin and path are sent: credentials, a query or a fragment would be dropped without a word.
  const base = new URL(apiBase);
  if (base.username || base.password || base.search || base.hash) {
    throw new ConfigError(
      'WECOM_API_BASE',
      'must have no user, password, query or fragment: none would be sent',
    );
  }
  return {
    database: parseDatabase(env),
    wecom: {
      apiBase: apiBase.replace(/\/+$/, ''),
      corpId: required(env, 'WECOM_CORP_ID'),
      corpSecret: required(env, 'WECOM_CORP_SECRET'),
      ratePerMinute: integer(env, 'WECOM_RATE_LIMIT_PER_MIN', d.WECOM_RATE_LIMIT_PER_MIN, 1, 1_000_000),
      ratePerHour: integer(env, 'WECOM_RATE_LIMIT_PER_HOUR', d.WECOM_RATE_LIMIT_PER_HOUR, 1, 60_000_000),
      concurrency: integer(env, 'WECOM_CONCURRENCY', d.WECOM_CONCURRENCY, 1, 512),
      timeoutMs: integer(env, 'WECOM_TIMEOUT_MS', d.WECOM_TIMEOUT_MS, 100, 600_000),
      maxAttempts: integer(env, 'WECOM_MAX_ATTEMPTS', d.WECOM_MAX_ATTEMPTS, 1, 20),
      rateLimitPauseMs: integer(env, 'WECOM_RATE_LIMIT_PAUSE_MS', d.WECOM_RATE_LIMIT_PAUSE_MS, 0, 3_600_000),
    },
    sync: {
      pageSize: integer(env, 'SYNC_PAGE_SIZE', d.SYNC_PAGE_SIZE, 1, 10_000),
      chainConcurrency: integer(env, 'SYNC_CHAIN_CONCURRENCY', d.SYNC_CHAIN_CONCURRENCY, 1, 64),
      details: oneOf(env, 'SYNC_DETAILS', ['changed', 'all', 'none'] as const, d.SYNC_DETAILS),
      detailsMaxAgeHours: integer(
        env,
        'SYNC_DETAILS_MAX_AGE_HOURS',
        d.SYNC_DETAILS_MAX_AGE_HOURS,
        0,
        100_000,
      ),
    },
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', d.SHUTDOWN_TIMEOUT_MS, 1_000, 3_600_000),
    metrics: {
      port: integer(env, 'METRICS_PORT', d.METRICS_PORT, 0, 65_535),
      pushgatewayUrl: env.PUSHGATEWAY_URL?.trim() ? pushgatewayUrl(env.PUSHGATEWAY_URL.trim()) : null,
    },
  };
}

/** For `schedule`: a cron expression (node-cron syntax, optional seconds field) and an IANA time zone. */
export function parseScheduleConfig(
  env: Env,
  cronProblem: (expr: string, timezone: string) => string | null,
): ScheduleConfig {
  const cron = required(env, 'SYNC_CRON');
  const timezone = env.SYNC_TZ?.trim() || CONFIG_DEFAULTS.SYNC_TZ;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ConfigError('SYNC_TZ', `is not a known IANA time zone: ${quoted(timezone)}`);
  }
  const problem = cronProblem(cron, timezone);
  if (problem !== null) throw new ConfigError('SYNC_CRON', `${problem}: ${quoted(cron)}`);
  return { cron, timezone };
}
