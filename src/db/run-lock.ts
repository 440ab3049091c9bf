// One sync at a time per upstream corp, across processes and machines: a session-level advisory lock on a
// connection held for the whole run. If that connection dies, the lock is gone, so the run is told to stop.
import type pg from 'pg';

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
  readonly #client: pg.PoolClient;
  readonly #upstreamCorpid: string;
  readonly #lost = new AbortController();
  #heartbeat: NodeJS.Timeout | undefined;
  #beat: Promise<unknown> = Promise.resolve();
  #released = false;

  private constructor(client: pg.PoolClient, upstreamCorpid: string) {
    this.#client = client;
    this.#upstreamCorpid = upstreamCorpid;
    client.on('error', (err) =>
      this.#lost.abort(new Error(`lost the connection holding the sync lock: ${err.message}`)),
    );
  }

  /** Takes the lock or throws LockHeldError naming the run that holds it. Waits for nothing. */
  static async acquire(pool: pg.Pool, upstreamCorpid: string): Promise<RunLock> {
    const client = await pool.connect();
    try {
      const { rows } = await client.query('select pg_try_advisory_lock($1, hashtext($2)) as locked', [
        LOCK_NAMESPACE,
        upstreamCorpid,
      ]);
      if (rows[0].locked) return new RunLock(client, upstreamCorpid);
      const holder = await client.query(
        `select id, started_at from wecom.sync_runs where upstream_corpid = $1 and status = 'running'
         order by id desc limit 1`,
        [upstreamCorpid],
      );
      throw new LockHeldError(upstreamCorpid, holder.rows[0]);
    } catch (err) {
      client.release();
      throw err;
    }
  }

  /** Aborted when the lock's connection fails: the lock may already be someone else's. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /**
   * Runs still marked 'running' while we hold the lock belong to processes that died (kill -9, node lost):
   * they are marked 'aborted'.
   */
  async abortStaleRuns(): Promise<StaleRun[]> {
    const { rows } = await this.#client.query(
      `update wecom.sync_runs set status = 'aborted', finished_at = now(),
         error = 'the process stopped without finishing the run (last heartbeat ' || heartbeat_at || ')'
       where upstream_corpid = $1 and status = 'running' returning id, heartbeat_at`,
      [this.#upstreamCorpid],
    );
    return rows;
  }

  startHeartbeat(runId: number): void {
    this.#heartbeat = setInterval(() => {
      this.#beat = this.#client
        .query('update wecom.sync_runs set heartbeat_at = now() where id = $1', [runId])
        .catch((err: Error) => this.#lost.abort(new Error(`sync lock heartbeat failed: ${err.message}`)));
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    await this.#beat;
    if (this.#lost.signal.aborted) {
      this.#client.release(new Error('lock connection lost'));
      return;
    }
    try {
      await this.#client.query('select pg_advisory_unlock($1, hashtext($2))', [
        LOCK_NAMESPACE,
        this.#upstreamCorpid,
      ]);
      this.#client.release();
    } catch (err) {
      // Closing the connection releases a session lock just as well.
      this.#client.release(err as Error);
    }
  }
}
