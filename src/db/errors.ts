// Telling "the database is not there" apart from "the database said no to this statement".

const UNREACHABLE_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);

// TLS failures while connecting: an untrusted or expired certificate, a name that does not match.
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * True for failures to reach or log in to the server: connection refused or dropped, unknown host or
 * socket, TLS refused or not trusted, unknown database, authentication failed, too many connections, server
 * shutting down. Also when such a failure is the cause of another: drizzle wraps the driver's error in its own
 * ("Failed query: …", with the query's parameters), and says nothing of the connection in its message.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return settingsRefusal(err) === null && causeWhere(err, isUnavailable) !== null;
}

/** `err`, or the first of its causes, that `test` accepts: drizzle and others wrap the driver's error. */
function causeWhere(err: unknown, test: (e: Error) => boolean): Error | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (test(e)) return e;
  }
  return null;
}

function isUnavailable(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (isStatementPoolingRefusal(err)) return false;
  // Any failure of connect(2): a Unix socket directory that does not exist (ENOENT), say.
  if ((err as { syscall?: unknown }).syscall === 'connect') return true;
  if (typeof code === 'string') {
    if (UNREACHABLE_SYSCALL_CODES.has(code) || TLS_CODE.test(code)) return true;
    // SQLSTATE classes 08 (connection), 28 (authorization), 57P (operator intervention), 3D000 (no database),
    // 53300 (too many connections, for the server, the database or the role).
    if (/^(08|28)/.test(code) || code.startsWith('57P') || code === '3D000' || code === '53300') return true;
  }
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  // node-postgres reports its own connect timeout and lost connections only in the message ("not queryable":
  // a query on a client whose connection already failed), and SASL: its SCRAM login failing on our side (no
  // password to answer with, a server proof that is wrong).
  return /timeout expired|Connection terminated|connect ECONNREFUSED|does not support SSL|not queryable|^SASL: /i.test(
    err.message,
  );
}

// node-postgres's words when the server asks for a password (SCRAM) and it has none to give.
const NO_PASSWORD = /^SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a (non-empty )?string$/;

/** What the user reads for an error isDatabaseUnavailable accepts. */
export function unavailableReason(err: Error): string {
  const cause = causeWhere(err, isUnavailable) ?? err;
  return NO_PASSWORD.test(cause.message)
    ? 'the server asks for a password, and none is given (in DATABASE_URL, PGPASSWORD or ~/.pgpass)'
    : cause.message;
}

/**
 * The server refused a setting that the connection's startup asks for: `options=-c name=value` in DATABASE_URL
 * (or PGOPTIONS) naming a parameter it does not know, a value it does not take, or one the role may not set; or
 * a pooler (PgBouncer) refusing `options` itself. Retrying cannot help, so it is not "unavailable" (exit 5).
 */
export class ConnectionSettingsError extends Error {
  override name = 'ConnectionSettingsError';
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

// What the server answers a startup whose settings it refuses: 42704 no such parameter, 22023 a value it does not
// take, 55P02 one that cannot be set at connection start, 42501 one the role may not set (only that 42501: a
// database whose CONNECT was revoked says 42501 too, and is a login refused).
const SETTING_REFUSED = new Set(['42704', '22023', '55P02']);
const MAY_NOT_SET = /^permission denied to set parameter /;
// PgBouncer's 08P01 for startup parameters it does not pass on: "unsupported startup parameter: options" (before
// 1.20), "… in options: work_mem" (1.20 on), "unsupported options startup parameter: only '-c config=val' is
// allowed". Class 08 otherwise reads as a connection lost.
const POOLER_REFUSED = /^unsupported (startup parameter|options startup parameter)\b/;

/** The ConnectionSettingsError that `err` is or wraps, if any. */
export function settingsRefusal(err: unknown): ConnectionSettingsError | null {
  return causeWhere(err, (e) => e instanceof ConnectionSettingsError) as ConnectionSettingsError | null;
}

/** What a failed connect means: the startup's settings refused, or as it was (unreachable, refused a login). */
export function connectFailure(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  const settings =
    (code === '08P01' && POOLER_REFUSED.test(err.message)) ||
    (!isDatabaseUnavailable(err) &&
      ((typeof code === 'string' && SETTING_REFUSED.has(code)) ||
        (code === '42501' && MAY_NOT_SET.test(err.message))));
  return settings ? new ConnectionSettingsError(err) : err;
}

/**
 * The connections reach the server through a pooler that hands out its server connections per transaction
 * (PgBouncer's `pool_mode = transaction` or `statement`, a managed service's "pooled" address). Locks and
 * temporary tables stay with whichever server connection ran the statement that made them: a migration lock
 * left on one would hang every later start, and a chain's stage could take in another sync's rows.
 */
export class TransactionPoolingError extends Error {
  override name = 'TransactionPoolingError';
  /** `after`: what had happened by the time it showed (see unlockMigrations). */
  constructor(after?: string) {
    super(
      'statements of one connection reach different server connections, as through a pooler in transaction mode ' +
        '(PgBouncer pool_mode = transaction, a "pooled" address): the sync keeps locks and temporary tables on a ' +
        `connection of its own, so connect directly or through session pooling${after ? ` (${after})` : ''}`,
    );
  }
}

/**
 * The database's encoding is not UTF8: WeCom's names (Chinese, and anything else a corp calls itself) would fail
 * the run on the first character the encoding lacks, and EUC_CN, say, lacks many a company name's.
 */
export class DatabaseEncodingError extends Error {
  override name = 'DatabaseEncodingError';
  constructor(encoding: string) {
    super(
      `the database's encoding is ${encoding}, which cannot hold every name WeCom returns: ` +
        "sync into a database created with ENCODING 'UTF8'",
    );
  }
}

/**
 * PgBouncer in statement mode refusing a transaction (08P01, and it ends the connection): a pooler set up for
 * something else, which no retry mends. `sql` meets it; the syncs' check (TransactionPoolingError) comes first.
 */
export function isStatementPoolingRefusal(err: unknown): boolean {
  return (
    causeWhere(
      err,
      (e) =>
        (e as { code?: unknown }).code === '08P01' &&
        /not allowed in statement pooling mode$/.test(e.message),
    ) !== null
  );
}

/** The run is no longer running: another sync took its lock over and marked it aborted. */
export class RunEndedError extends Error {
  override name = 'RunEndedError';
  constructor(runId: number, status: string) {
    super(`run ${runId} is ${status}, no longer running: another sync has taken over, so nothing was merged`);
  }
}

/** Throws RunEndedError unless merge-sql's RUN_STATUS found the run still running. */
export function assertRunning(runId: number, status: { rows: { status: string }[] }): void {
  const found = status.rows[0]?.status ?? 'missing';
  if (found !== 'running') throw new RunEndedError(runId, found);
}
