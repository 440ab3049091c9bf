// One sync at a time per upstream corp, across processes and machines: a session-level advisory lock on a
// connection held for the whole run. If that connection dies, the lock is gone, so the run is told to stop.
import type { Database, Session } from './database.ts';

// Two-key form: the first key namespaces our locks, the second is the corp.
const LOCK_NAMESPACE = 7_413_020;
const HEARTBEAT_MS = 10_000;

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

export class RunLock {
  readonly #session: Session;
  readonly #upstreamCorpid: string;
  readonly #failed = new AbortController();
  #heartbeat: NodeJS.Timeout | undefined;
  #beat: Promise<unknown> = Promise.resolve();
  #released = false;

  private constructor(session: Session, upstreamCorpid: string) {
    this.#session = session;
    this.#upstreamCorpid = upstreamCorpid;
  }

  /** Takes the lock or throws LockHeldError naming the run that holds it. Waits for nothing. */
  static async acquire(db: Database, upstreamCorpid: string): Promise<RunLock> {
    const session = await db.session();
    try {
      const { rows } = await session.query('select pg_try_advisory_lock($1, hashtext($2)) as locked', [
        LOCK_NAMESPACE,
        upstreamCorpid,
      ]);
      if (rows[0].locked) return new RunLock(session, upstreamCorpid);
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
    this.#heartbeat = setInterval(() => {
      this.#beat = this.#session
        .query('update wecom.sync_runs set heartbeat_at = now() where id = $1', [runId])
        .catch((err: Error) => this.#failed.abort(new Error(`sync lock heartbeat failed: ${err.message}`)));
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    await this.#beat;
    if (this.lost.aborted) {
      this.#session.release(true);
      return;
    }
    try {
      await this.#session.query('select pg_advisory_unlock($1, hashtext($2))', [
        LOCK_NAMESPACE,
        this.#upstreamCorpid,
      ]);
      this.#session.release();
    } catch {
      // Closing the connection releases a session lock just as well.
      this.#session.release(true);
    }
  }
}
