// One sync at a time per upstream corp, across processes and machines: a session-level advisory lock on a
// connection held for the whole run. If that connection dies, the lock is gone, so the run is told to stop.
import type { Database, Session } from './database.ts';

// Two-key form: the first key namespaces our locks, the second is the corp.
const LOCK_NAMESPACE = 7_413_020;
const HEARTBEAT_MS = 10_000;
/** Heartbeats in a row the database may leave unanswered before the lock counts as lost. */
const STALLED_BEATS = 3;
/**
 * A running run whose heartbeat is older than this has stopped: alive, it beats, or gives up its lock when
 * the STALLED_BEATS-th beat after one that hung comes due (40 s after the last heartbeat saved), and a beat
 * more for the margin.
 */
export const SILENT_RUN_MS = (STALLED_BEATS + 2) * HEARTBEAT_MS;
/** A holder whose lock connection has been idle this long has stopped beating: its process is gone. */
const DEAD_HOLDER_MS = 120_000;

export class LockHeldError extends Error {
  override name = 'LockHeldError';
  readonly holderRunId: number | null;
  constructor(upstreamCorpid: string, holder: { id: number; started_at: Date } | undefined) {
    super(
      holder
        ? `another sync of ${upstreamCorpid} is running (run ${holder.id}, started ${holder.started_at.toISOString()})`
        : `another sync of ${upstreamCorpid} holds the lock (its run has not been recorded yet)`,
    );
    this.holderRunId = holder?.id ?? null;
  }
}

export interface StaleRun {
  id: number;
  heartbeat_at: Date;
}

/** The backend that held the lock for a process that is gone, and was terminated to take it over. */
export interface DeadHolder {
  pid: number;
  idleSeconds: number;
}

export interface AcquireOptions {
  /** How long the holder's connection must have been idle to count as dead (default 120 s). */
  deadAfterMs?: number;
  /** How often the run's heartbeat is written (default 10 s); unanswered for 3 of them, the lock is lost. */
  heartbeatMs?: number;
}

// Our lock for corp $2 in pg_locks (as `l`): the two-key form shows its keys as classid and objid.
const OUR_LOCK = `l.locktype = 'advisory' and l.granted and l.objsubid = 2
  and l.database = (select oid from pg_database where datname = current_database())
  and l.classid = $1::bigint::oid and l.objid = ((hashtext($2)::bigint + 4294967296) % 4294967296)::oid`;

// The backend holding our lock for the corp, when it has been idle (no heartbeat, no query) for $3
// seconds: a holder that is alive runs its heartbeat on that very connection every 10 s. Such a backend
// outlives a vanished node or a network partition until the server's TCP keepalive gives up (two hours
// by default), so it is terminated, waiting up to 5 s for it to go.
const TERMINATE_DEAD_HOLDER = `
select a.pid, extract(epoch from now() - a.state_change)::float8 as idle_seconds,
       pg_terminate_backend(a.pid, 5000) as terminated
from pg_locks l join pg_stat_activity a on a.pid = l.pid
where ${OUR_LOCK}
  and a.state = 'idle' and a.state_change < now() - make_interval(secs => $3)`;

// The server process that took our lock ($3), if it still holds it.
const TERMINATE_TAKER = `select pg_terminate_backend(l.pid) from pg_locks l where ${OUR_LOCK} and l.pid = $3`;

const TRY_LOCK = 'select pg_try_advisory_lock($1, hashtext($2)) as locked, pg_backend_pid() as pid';

export class RunLock {
  readonly #session: Session;
  /** The server process that took the lock (whatever serves the session's later statements). */
  readonly #taker: number;
  readonly #upstreamCorpid: string;
  readonly #failed = new AbortController();
  readonly #heartbeatMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  /** The heartbeat being written, and how many beats have come since it was sent; null between beats. */
  #beat: { written: Promise<unknown>; unanswered: number } | null = null;
  #released = false;

  /** Set when the lock was taken over from a holder whose process is gone. */
  readonly tookOverFrom: DeadHolder | null;

  private constructor(
    session: Session,
    taker: number,
    upstreamCorpid: string,
    tookOverFrom: DeadHolder | null,
    heartbeatMs: number,
  ) {
    this.#session = session;
    this.#taker = taker;
    this.#upstreamCorpid = upstreamCorpid;
    this.tookOverFrom = tookOverFrom;
    this.#heartbeatMs = heartbeatMs;
  }

  /**
   * Takes the lock or throws LockHeldError naming the run that holds it. Waits for nothing, but takes the
   * lock over from a holder whose connection has been idle for `deadAfterMs`: its process is gone.
   */
  static async acquire(db: Database, upstreamCorpid: string, options: AcquireOptions = {}): Promise<RunLock> {
    const session = await db.session();
    const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    const tryLock = async (tookOverFrom: DeadHolder | null) => {
      const { locked, pid } = (await session.query(TRY_LOCK, [LOCK_NAMESPACE, upstreamCorpid])).rows[0];
      return locked ? new RunLock(session, pid, upstreamCorpid, tookOverFrom, heartbeatMs) : null;
    };
    try {
      const taken = await tryLock(null);
      if (taken) return taken;
      const dead = await terminateDeadHolder(session, upstreamCorpid, options.deadAfterMs ?? DEAD_HOLDER_MS);
      const takenOver = dead && (await tryLock(dead));
      if (takenOver) return takenOver;
      const holder = await session.query(
        `select id, started_at from wecom.sync_runs where upstream_corpid = $1 and status = 'running'
         order by id desc limit 1`,
        [upstreamCorpid],
      );
      throw new LockHeldError(upstreamCorpid, holder.rows[0]);
    } catch (err) {
      session.release();
      throw err;
    }
  }

  /** Aborted when the lock's connection fails or a heartbeat cannot be written: the lock may be gone. */
  get lost(): AbortSignal {
    return AbortSignal.any([this.#session.lost, this.#failed.signal]);
  }

  /**
   * Runs still marked 'running' while we hold the lock belong to processes that died (kill -9, node lost):
   * they are marked 'aborted'.
   */
  async abortStaleRuns(): Promise<StaleRun[]> {
    const { rows } = await this.#session.query(
      `update wecom.sync_runs set status = 'aborted', finished_at = now(),
         error = 'the process stopped without finishing the run (last heartbeat ' || heartbeat_at || ')'
       where upstream_corpid = $1 and status = 'running' returning id, heartbeat_at`,
      [this.#upstreamCorpid],
    );
    return rows;
  }

  startHeartbeat(runId: number): void {
    // The cause keeps the driver's error: a lost connection is then told apart as the database's.
    const fail = (err: Error) =>
      this.#failed.abort(new Error(`sync lock heartbeat failed: ${err.message}`, { cause: err }));
    this.#heartbeat = setInterval(() => {
      // One beat at a time. A database that stopped answering without closing the connection (a network
      // that drops packets, a failover to another address) would otherwise never fail the run: TCP would
      // take a quarter of an hour to give up, while a scheduler skipped every tick.
      if (this.#beat !== null) {
        // Counted in beats, not read off a clock, whose ticks may come a little early.
        if (++this.#beat.unanswered === STALLED_BEATS) {
          const seconds = (STALLED_BEATS * this.#heartbeatMs) / 1000;
          fail(Object.assign(new Error(`no answer for ${seconds} s`), { code: 'ETIMEDOUT' }));
        }
        return;
      }
      const written = this.#session
        .query('update wecom.sync_runs set heartbeat_at = now() where id = $1', [runId])
        .then(() => {
          this.#beat = null;
        }, fail);
      this.#beat = { written, unanswered: 0 };
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    // A beat the database does not answer would keep the run from ending: the connection is closed instead.
    if (!this.lost.aborted) await this.#beat?.written;
    if (this.lost.aborted) {
      this.#session.release(true);
      return;
    }
    try {
      const key = [LOCK_NAMESPACE, this.#upstreamCorpid];
      const { rows } = await this.#session.query(
        'select pg_advisory_unlock($1, hashtext($2)) as released',
        key,
      );
      // Not held where the unlock ran: a pooler in transaction mode got past the migrations' check, and the
      // process that took the lock serves its other clients now. Ended, or it would keep the corp locked.
      if (!rows[0].released) await this.#session.query(TERMINATE_TAKER, [...key, this.#taker]);
      this.#session.release();
    } catch {
      // Closing the connection releases a session lock just as well.
      this.#session.release(true);
    }
  }
}

async function terminateDeadHolder(
  session: Session,
  upstreamCorpid: string,
  deadAfterMs: number,
): Promise<DeadHolder | null> {
  try {
    const { rows } = await session.query(TERMINATE_DEAD_HOLDER, [
      LOCK_NAMESPACE,
      upstreamCorpid,
      deadAfterMs / 1000,
    ]);
    const r = rows[0];
    return r?.terminated ? { pid: r.pid, idleSeconds: Math.round(r.idle_seconds) } : null;
  } catch {
    // Not allowed to terminate it (another role, without pg_signal_backend): the lock stays held. (Another
    // role's connection shows no state without pg_read_all_stats, so it is not even found.)
    return null;
  }
}
