// Running unattended: one runner at a time, clean shutdown, dead runs, the scheduler. Real processes,
// real Postgres, the simulator with latency so that runs last long enough to be interrupted.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../../src/db/postgres.ts';
import { SimNetwork, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import {
  type CliProcess,
  expectCursorResults,
  expectExactTimes,
  expectFaithfulValues,
  killLeftovers,
  logLines,
  MAIN,
  runCli,
  startCli,
} from '../helpers/cli.ts';
import { createTestDatabase, holdingMigrationLock, type TestDatabase } from '../helpers/db.ts';
import { CORP_ID, expectedSnapshot, SECRET, type Snapshot, storedSnapshot } from '../helpers/simulated.ts';

describe('in production', () => {
  let db: TestDatabase;
  let sim: Simulator;
  const network = SimNetwork.generate({
    seed: 11,
    chains: 3,
    groups: 30,
    corps: 4_500,
    pendingRatio: 0.1,
    maxDepth: 4,
  });
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    // WeCom's 10,000 calls a minute would block these back-to-back runs for a minute.
    sim = await startSimulator({
      network,
      corpId: CORP_ID,
      corpSecret: SECRET,
      latencyMs: 15,
      rateLimitPerMin: 1e7,
    });
    env = {
      DATABASE_URL: db.url,
      WECOM_API_BASE: sim.url,
      WECOM_CORP_ID: CORP_ID,
      WECOM_CORP_SECRET: SECRET,
      WECOM_RATE_LIMIT_PER_MIN: '1000000',
      WECOM_CONCURRENCY: '8',
      SYNC_CHAIN_CONCURRENCY: '1',
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
    expect((await runCli(['run'], env)).code).toBe(0);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });
  beforeEach(() => sim.faults.clear());
  afterEach(killLeftovers);

  const runs = async () =>
    (
      await db.pool.query(
        'select id, status, started_at, finished_at, error from wecom.sync_runs order by id',
      )
    ).rows;
  const latestRun = async () => (await runs()).at(-1)!;
  /** A scheduler logging at info, its metrics on a free port, syncing every second unless told otherwise. */
  const startSchedule = (args: string[], extra: Record<string, string> = {}) =>
    startCli(['schedule', ...args], {
      ...env,
      LOG_LEVEL: 'info',
      SYNC_CRON: '* * * * * *',
      METRICS_PORT: '0',
      ...extra,
    });
  const waitingForLocks = async () =>
    (
      await db.pool.query(
        `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
         where l.locktype = 'advisory' and not l.granted and a.datname = current_database()`,
      )
    ).rows[0].n as number;
  /** Waits until a process is blocked on the migration lock the test holds. */
  const untilWaitingForMigrationLock = () =>
    vi.waitFor(async () => expect(await waitingForLocks()).toBe(1), { timeout: 20_000, interval: 20 });
  /**
   * Starts a process while the test holds the migration lock and sends it SIGTERM once it waits there: how it
   * ended, and how many lock waits were left behind while the lock was still held.
   */
  const stoppedWaitingForMigrations = (start: () => CliProcess) =>
    holdingMigrationLock(db.pool, async () => {
      const proc = start();
      await untilWaitingForMigrationLock();
      proc.child.kill('SIGTERM');
      const result = await proc.exited;
      return { result, waitsLeft: await waitingForLocks() };
    });
  /** Waits until `query` finds exactly one backend, then terminates it, as an administrator or a failover would. */
  const terminateBackend = async (query: string) => {
    const pid = await vi.waitFor(
      async () => {
        const { rows } = await db.pool.query(query);
        expect(rows).toHaveLength(1);
        return rows[0].pid as number;
      },
      { timeout: 20_000, interval: 20 },
    );
    await db.pool.query('select pg_terminate_backend($1)', [pid]);
  };
  // The CLI's `sql` sleeping in this test's database. Not by its text: a query read through a cursor runs as
  // its FETCH, which pg_stat_activity shows instead.
  const SLEEPING_SQL = `select pid from pg_stat_activity where datname = current_database()
    and application_name = 'wecom-chain-sync' and wait_event = 'PgSleep'`;
  /** Renames every corp, so every chain's new state differs from its old one everywhere. */
  function renameEverything(tag: string) {
    for (const [chainId, chain] of network.chains) {
      for (const [key, corp] of chain.corps)
        network.renameCorp(chainId, key, `${corp.corpName.split('#')[0]}#${tag}`);
    }
  }
  function perChain(s: Snapshot): Map<string, unknown[]> {
    const m = new Map<string, unknown[]>();
    for (const c of s.corps) m.set(c.chain_id as string, [...(m.get(c.chain_id as string) ?? []), c]);
    return m;
  }

  it('sql prints times to the microsecond, as PostgreSQL has them', () => expectExactTimes(env));

  it('sql prints every column and value as PostgreSQL has them', () => expectFaithfulValues(env));

  it('sql reads its result from a cursor, run once and read-only', () => expectCursorResults(env));

  it('lets exactly one of two concurrent runs sync; the other exits 8 naming the holder and writes nothing', async () => {
    renameEverything('a');
    const first = startCli(['run'], env);
    await vi.waitFor(async () => expect((await latestRun()).status).toBe('running'), {
      timeout: 20_000,
      interval: 20,
    });
    const holder = (await latestRun()).id;
    const second = await runCli(['run'], env);
    expect(second.code).toBe(8);
    expect(second.stderr).toContain(`another sync of ${CORP_ID} is running (run ${holder},`);
    expect((await first.exited).code).toBe(0);
    expect((await runs()).filter((r) => r.id > holder)).toEqual([]);
    expect(await storedSnapshot(db.pool)).toEqual(expectedSnapshot(network));
  });

  // SIGHUP: the terminal or ssh session of a `schedule` run by hand closing.
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    'on %s exits 9 in time, records the run aborted, keeps each chain whole, and the next run completes',
    async (signal) => {
      const before = perChain(await storedSnapshot(db.pool));
      renameEverything(`b-${signal}`);
      const after = perChain(expectedSnapshot(network));
      const proc = startCli(['run'], env);
      // Interrupt once the first chain is merged and the second is being crawled.
      await vi.waitFor(
        async () => {
          const { rows } = await db.pool.query(
            `select count(*)::int as n from wecom.chains c join wecom.sync_runs r on r.id = c.last_run_id
           where r.status = 'running'`,
          );
          expect(rows[0].n).toBeGreaterThanOrEqual(1);
        },
        { timeout: 30_000, interval: 20 },
      );
      const signalled = performance.now();
      proc.child.kill(signal);
      const result = await proc.exited;
      expect(performance.now() - signalled).toBeLessThan(10_000);
      expect(result.code).toBe(9);
      expect(result.stderr).toContain('sync aborted');
      const run = await latestRun();
      expect(run.status).toBe('aborted');
      expect(run.finished_at).not.toBeNull();

      const stored = perChain(await storedSnapshot(db.pool));
      const states = [...stored].map(([chainId, rows]) => {
        if (JSON.stringify(rows) === JSON.stringify(after.get(chainId))) return 'new';
        if (JSON.stringify(rows) === JSON.stringify(before.get(chainId))) return 'old';
        return 'mixed';
      });
      expect(states).not.toContain('mixed');
      expect(states).toContain('new');
      expect(states).toContain('old');

      expect((await runCli(['run'], env)).code).toBe(0);
      expect(await storedSnapshot(db.pool)).toEqual(expectedSnapshot(network));
    },
  );

  it('on its terminal hanging up exits 9 and records the run aborted, though every write then fails', async () => {
    // The process runs on a pseudo-terminal (Python's pty module; Node has none), as by hand in an ssh
    // session. Closing the terminal's master side hangs it up: SIGHUP, and EIO for every write after.
    const hangUp = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0: os.execv(sys.argv[1], sys.argv[1:])',
      'sys.stdin.readline()',
      'os.close(fd)',
      'print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
    ].join('\n');
    const before = (await latestRun()).id;
    // The run waits on its chain list until the terminal is gone.
    sim.faults.inject({ endpoint: 'get_chain_list', count: 1, fault: { delayMs: 3_000 } });
    const tty = spawn('python3', ['-c', hangUp, process.execPath, MAIN, 'run'], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exitCode = new Promise<string>((resolve) => {
      let out = '';
      tty.stdout.on('data', (d) => (out += d));
      tty.on('close', () => resolve(out.trim()));
    });
    await vi.waitFor(async () => expect((await latestRun()).id).toBeGreaterThan(before), {
      timeout: 20_000,
      interval: 20,
    });
    tty.stdin.end('hang up\n');
    expect(await exitCode).toBe('9');
    expect(await latestRun()).toMatchObject({ status: 'aborted', error: expect.stringContaining('SIGHUP') });
  });

  it('exits 5 and records the run failed, not aborted, when the connection holding the lock is lost', async () => {
    // A run that is still listing chains when its lock's connection is killed.
    sim.faults.inject({ endpoint: 'get_chain_list', count: 1, fault: { delayMs: 2_000 } });
    const before = (await latestRun()).id;
    const proc = startCli(['run'], env);
    // Once the run is recorded and the lock's connection idle between heartbeats: killed in the middle of
    // the lock's own start-up queries, the process would end before recording any run.
    await terminateBackend(
      `select l.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid
       where l.locktype = 'advisory' and l.granted and l.classid = 7413020 and l.objsubid = 2
         and a.datname = current_database() and a.state = 'idle'
         and exists (select 1 from wecom.sync_runs where id > ${before} and status = 'running')`,
    );
    const result = await proc.exited;
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^wecom-chain-sync: database unreachable: [^\n]*\n$/m);
    expect((await latestRun()).status).toBe('failed');
    expect((await runCli(['run'], env)).code).toBe(0);
  });

  it('exits 5 and records the run failed when the connection staging a chain is lost between two pages', async () => {
    // The stage's connection sits idle, having looked up a page's corps, while their details are slow to come
    // (every corp renamed, so details are due). One chain at a time, so one stage's connection.
    renameEverything('lost');
    sim.faults.inject({ endpoint: 'get_chain_corpinfo', count: 1, fault: { delayMs: 2_000 } });
    const before = (await latestRun()).id;
    const proc = startCli(['run'], { ...env, SYNC_CHAIN_CONCURRENCY: '1' });
    await terminateBackend(
      `select pid from pg_stat_activity
       where datname = current_database() and state = 'idle' and query like '%corp_key = any%'
         and exists (select 1 from wecom.sync_runs where id > ${before} and status = 'running')`,
    );
    const result = await proc.exited;
    // The server's reason, or node-postgres's when the failure reached a query before the connection's event.
    expect(result.stderr).toMatch(
      /\nwecom-chain-sync: database unreachable: (terminating connection due to administrator command|Client has encountered a connection error and is not queryable)\n$/,
    );
    expect(result.code).toBe(5);
    expect((await latestRun()).status).toBe('failed');
  });

  it("keeps its lock's connection where the database ends idle sessions (idle_session_timeout)", async () => {
    const setTimeoutTo = async (value: string) => {
      // A connection of its own each time: the pool's may be the ones the setting ends.
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(
        `alter database ${new URL(db.url).pathname.slice(1)} set idle_session_timeout = '${value}'`,
      );
      await admin.end();
    };
    await setTimeoutTo('2s');
    try {
      // The lock's connection sits idle while the chain list is slow to come.
      sim.faults.inject({ endpoint: 'get_chain_list', count: 1, fault: { delayMs: 4_000 } });
      const result = await runCli(['run'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    } finally {
      await setTimeoutTo('0');
    }
  });

  it('migrate stops with exit 9 on SIGTERM, as no container init would do it for Node as PID 1', async () => {
    const { result } = await stoppedWaitingForMigrations(() => startCli(['migrate'], env));
    expect(result).toMatchObject({ code: 9, signal: null });
  });

  it('exits 5 in one line when the connection migrating is lost', async () => {
    await holdingMigrationLock(db.pool, async () => {
      const proc = startCli(['migrate'], env);
      await terminateBackend(
        `select pid from pg_locks l join pg_stat_activity a using (pid)
         where l.locktype = 'advisory' and not l.granted and l.objid = ${MIGRATION_LOCK_KEY} % 4294967296
           and a.datname = current_database()`,
      );
      const result = await proc.exited;
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/^wecom-chain-sync: database unreachable: [^\n]*\n$/);
    });
  });

  it('after kill -9, the next run marks the dead one aborted and completes', async () => {
    renameEverything('c');
    const proc = startCli(['run'], env);
    await vi.waitFor(async () => expect((await latestRun()).status).toBe('running'), {
      timeout: 20_000,
      interval: 20,
    });
    const dead = (await latestRun()).id;
    proc.child.kill('SIGKILL');
    await proc.exited;
    expect((await latestRun()).status).toBe('running');

    const next = await runCli(['run'], { ...env, LOG_LEVEL: 'info' });
    expect(next.code).toBe(0);
    expect(
      logLines(next.stderr).some((l) => l.msg === 'marked a dead run aborted' && l.staleRunId === dead),
    ).toBe(true);
    const row = (await runs()).find((r) => r.id === dead)!;
    expect(row.status).toBe('aborted');
    expect(row.error).toContain('stopped without finishing');
    expect(await storedSnapshot(db.pool)).toEqual(expectedSnapshot(network));
  });

  it('on a second SIGTERM exits 9 at once, while the first is still waiting for a chain to commit', async () => {
    const before = await storedSnapshot(db.pool);
    renameEverything('d');
    // Holding every chain's row makes the first merge wait on its lock: a clean stop cannot finish.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from wecom.chains for update');
      const proc = startCli(['run'], { ...env, SHUTDOWN_TIMEOUT_MS: '60000', LOG_LEVEL: 'info' });
      await vi.waitFor(
        async () => {
          const { rows } = await db.pool.query(
            `select count(*)::int as n from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and query like '%for update%'`,
          );
          expect(rows[0].n).toBe(1);
        },
        { timeout: 30_000, interval: 20 },
      );
      proc.child.kill('SIGTERM');
      await vi.waitFor(() => expect(proc.stderr).toContain('stopping: no new requests'), {
        timeout: 10_000,
        interval: 20,
      });
      expect(proc.child.exitCode).toBeNull();
      const signalled = performance.now();
      proc.child.kill('SIGTERM');
      const result = await proc.exited;
      expect(performance.now() - signalled).toBeLessThan(5_000);
      expect(result.code).toBe(9);
      expect(logLines(result.stderr).some((l) => l.msg === 'second signal: exiting now')).toBe(true);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    // The merge it was waiting in never committed.
    await vi.waitFor(
      async () => {
        const { rows } = await db.pool.query(
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and query like '%for update%' and state <> 'idle'
             and pid <> pg_backend_pid()`,
        );
        expect(rows[0].n).toBe(0);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(await storedSnapshot(db.pool)).toEqual(before);
  });

  it('schedule runs syncs every second without ever overlapping them, and serves metrics and probes', async () => {
    const firstNew = (await latestRun()).id + 1;
    // Every sync takes longer than the one-second schedule, so ticks come while one is running.
    sim.faults.inject({ endpoint: 'get_chain_list', count: Infinity, fault: { delayMs: 1_200 } });
    const proc = startSchedule(['--now']);
    await vi.waitFor(
      async () => {
        const finished = (await runs()).filter((r) => r.id >= firstNew && r.finished_at !== null);
        expect(finished.length).toBeGreaterThanOrEqual(3);
      },
      { timeout: 60_000, interval: 100 },
    );
    const started = logLines(proc.stderr).find((l) => l.msg === 'scheduler started');
    expect(started).toMatchObject({ cron: '* * * * * *', timezone: 'Asia/Shanghai' });
    const base = `http://127.0.0.1:${started!.metricsPort}`;
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/wecom_sync_runs_total\{status="succeeded"\} [1-9]/);
    expect(text).toMatch(/wecom_sync_api_calls_total\{endpoint="get_chain_corpinfo_list"\} [1-9]/);
    expect(text).toMatch(/wecom_sync_last_success_timestamp_seconds \d/);
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    proc.child.kill('SIGTERM');
    const result = await proc.exited;
    expect([0, 9]).toContain(result.code);
    const mine = (await runs()).filter((r) => r.id >= firstNew);
    for (const [i, a] of mine.entries()) {
      expect(a.status).not.toBe('running');
      for (const b of mine.slice(i + 1)) expect(b.started_at >= a.finished_at).toBe(true);
    }
    // Those ticks were skipped, not queued.
    expect(
      logLines(result.stderr).some((l) => l.msg === 'tick skipped: the previous sync is still running'),
    ).toBe(true);
  });

  it("pushes the run's metrics to a Pushgateway at the end of run", async () => {
    const pushes: { method?: string; url?: string; body: string }[] = [];
    const gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        pushes.push({ method: req.method, url: req.url, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = gateway.address() as AddressInfo;
      const result = await runCli(['run'], { ...env, PUSHGATEWAY_URL: `http://127.0.0.1:${port}` });
      expect(result.code).toBe(0);
      expect(pushes).toHaveLength(1);
      // PUT: what an earlier run pushed is replaced, not merged (its error counts would stay otherwise).
      expect(pushes[0]).toMatchObject({
        method: 'PUT',
        url: `/metrics/job/wecom_chain_sync/upstream_corpid/${CORP_ID}`,
      });
      expect(pushes[0]!.body).toMatch(/wecom_sync_runs_total\{status="succeeded"\} 1/);
      expect(pushes[0]!.body).toMatch(/wecom_sync_rows_total\{table="chain_corps",kind="unchanged"\} 4500/);
      expect(pushes[0]!.body).toMatch(/wecom_sync_last_success_timestamp_seconds \d{10}/);
      expect(pushes[0]!.body).toMatch(/^wecom_sync_details_failed_total 0$/m);
    } finally {
      gateway.close();
    }
  });

  it('a push the Pushgateway refuses fails nothing, and its warning names the run', async () => {
    const result = await runCli(['run'], { ...env, PUSHGATEWAY_URL: 'http://127.0.0.1:1' });
    expect(result.code).toBe(0);
    const warning = logLines(result.stderr).find(
      (l) => l.msg === 'could not push metrics to the Pushgateway',
    );
    expect(warning).toMatchObject({ runId: (await latestRun()).id });
  });

  it('schedule stopped while it waits for migrations exits 0 at once, without syncing', async () => {
    const before = (await latestRun()).id;
    // Another process migrating, for longer than the deadline: this one waits for the migration lock.
    const { result, waitsLeft } = await stoppedWaitingForMigrations(() =>
      startSchedule(['--now'], { SHUTDOWN_TIMEOUT_MS: '600000' }),
    );
    expect(result.code).toBe(0);
    expect(logLines(result.stderr).some((l) => l.msg === 'scheduler stopped before it started')).toBe(true);
    expect((await latestRun()).id).toBe(before);
    expect(waitsLeft).toBe(0);
  });

  it('run stopped while it waits for migrations exits 9 at once in one line, and withdraws its wait', async () => {
    const before = (await latestRun()).id;
    const { result, waitsLeft } = await stoppedWaitingForMigrations(() =>
      startCli(['run'], { ...env, SHUTDOWN_TIMEOUT_MS: '600000' }),
    );
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(/\nwecom-chain-sync: stopped by SIGTERM before a sync started\n$/);
    expect((await latestRun()).id).toBe(before);
    expect(waitsLeft).toBe(0);
  });

  it('schedule reports the last run and last success it finds in the database from its start', async () => {
    // The last run failed, after an earlier success: both must show, each as it was.
    await db.pool.query(
      `insert into wecom.sync_runs (upstream_corpid, status, started_at, finished_at, stats)
       values ($1, 'failed', now() - interval '90 seconds', now(),
               '{"chains": {"listed": 3, "started": 3, "completed": 1, "failed": 2}}')`,
      [CORP_ID],
    );
    const { rows } = await db.pool.query(
      `select extract(epoch from max(finished_at) filter (where status = 'succeeded'))::float8 as at,
              extract(epoch from max(finished_at))::float8 as last
       from wecom.sync_runs`,
    );
    expect(rows[0].at).toBeGreaterThan(0);
    expect(rows[0].last).toBeGreaterThan(rows[0].at);
    // A schedule that does not fire during the test.
    const proc = startSchedule([], { SYNC_CRON: '0 0 1 1 *' });
    try {
      const started = await vi.waitFor(
        () => {
          const line = logLines(proc.stderr).find((l) => l.msg === 'scheduler started');
          expect(line).toBeDefined();
          return line!;
        },
        { timeout: 20_000, interval: 20 },
      );
      const text = await (await fetch(`http://127.0.0.1:${started.metricsPort}/metrics`)).text();
      const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      // Both in ms, read from µs (finished_at is the database's clock_timestamp()).
      expect(metric('wecom_sync_last_success_timestamp_seconds')).toBeCloseTo(rows[0].at, 2);
      expect(metric('wecom_sync_last_run_timestamp_seconds')).toBeCloseTo(rows[0].last, 2);
      expect(metric('wecom_sync_last_run_duration_seconds')).toBeCloseTo(90, 1);
      expect(metric('wecom_sync_last_run_chains\\{state="failed"\\}')).toBe(2);
    } finally {
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    }
  });

  it('schedule stopped while it reads the last runs at start-up exits 0 without syncing', async () => {
    const before = (await latestRun()).id;
    const holder = await db.pool.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table wecom.sync_runs in access exclusive mode');
      const proc = startSchedule(['--now']);
      // The scheduler's start-up query waits for the table the test holds.
      await vi.waitFor(
        async () => {
          const { rows } = await db.pool.query(
            `select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation
             where c.relname = 'sync_runs' and not l.granted and l.database = (select oid from pg_database where datname = current_database())`,
          );
          expect(rows[0].n).toBe(1);
        },
        { timeout: 20_000, interval: 20 },
      );
      proc.child.kill('SIGTERM');
      await holder.query('commit');
      const result = await proc.exited;
      expect(result.code).toBe(0);
      expect(logLines(result.stderr).map((l) => l.msg)).not.toContain('scheduler started');
      expect((await latestRun()).id).toBe(before);
    } finally {
      await holder.query('rollback').catch(() => {});
      holder.release();
    }
  });

  it('schedule exits 3 naming METRICS_PORT when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const result = await runCli(['schedule'], {
        ...env,
        SYNC_CRON: '0 0 1 1 *',
        METRICS_PORT: String(port),
      });
      expect(result.code).toBe(3);
      expect(result.stderr).toBe(
        `wecom-chain-sync: configuration error: METRICS_PORT: cannot listen on port ${port}: EADDRINUSE\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('rejects an invalid cron expression or time zone before any work', async () => {
    const cron = await runCli(['schedule'], { ...env, SYNC_CRON: '61 * * * *' });
    expect(cron).toMatchObject({
      code: 3,
      stderr:
        'wecom-chain-sync: configuration error: SYNC_CRON: is not a valid cron expression: "61 * * * *"\n',
    });
    // Valid syntax, and no 30th weekday of February: node-cron's validate() passes it, its schedule() throws.
    const never = await runCli(['schedule'], { ...env, SYNC_CRON: '0 0 30W 2 *' });
    expect(never).toMatchObject({
      code: 3,
      stderr:
        'wecom-chain-sync: configuration error: SYNC_CRON: matches no date that node-cron can find: "0 0 30W 2 *"\n',
    });
    const tz = await runCli(['schedule'], { ...env, SYNC_CRON: '0 * * * *', SYNC_TZ: 'Mars/Olympus' });
    expect(tz.code).toBe(3);
    expect(tz.stderr).toContain('SYNC_TZ: is not a known IANA time zone');
  });

  it('sql runs one statement only: a commit in the query cannot let a write through', async () => {
    const sneaky = await runCli(['sql', 'commit; create table public.sql_wrote (x int)'], env);
    expect(sneaky.code).toBe(2);
    expect(sneaky.stderr).toContain('cannot insert multiple commands');
    const { rows } = await db.pool.query(`select to_regclass('public.sql_wrote') as t`);
    expect(rows[0].t).toBeNull();
  });

  it('sql undoes what read-only mode lets a query do: a notification, a large object', async () => {
    const listener = await db.pool.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query('listen wcs_sql_effects');
      const objects = 'select count(*)::int as n from pg_largeobject_metadata';
      const before = (await db.pool.query(objects)).rows[0].n;
      for (const query of [
        `select pg_notify('wcs_sql_effects', 'from sql')`,
        `select lo_from_bytea(0, 'from sql') as oid`,
      ]) {
        expect((await runCli(['sql', query], env)).code).toBe(0);
      }
      expect((await db.pool.query(objects)).rows[0].n).toBe(before);
      // Notifications come in commit order: one from sql would come before this one.
      await db.pool.query(`select pg_notify('wcs_sql_effects', 'marker')`);
      await vi.waitFor(() => expect(heard).toContain('marker'), { timeout: 10_000, interval: 20 });
      expect(heard).toEqual(['marker']);
    } finally {
      listener.release();
    }
  });

  it('sql holds no transaction open while a slow reader takes its output', async () => {
    const proc = startCli(['sql', "select g, repeat('x', 60) as x from generate_series(1, 50000) g"], env);
    // The reader takes nothing: the output (3 MB) fills the pipe, and sql waits to write the rest.
    proc.child.stdout!.pause();
    await vi.waitFor(
      async () => {
        const { rows } = await db.pool.query(
          `select state, query from pg_stat_activity where datname = current_database()
             and application_name = 'wecom-chain-sync' and pid <> pg_backend_pid()`,
        );
        expect(rows).toEqual([{ state: 'idle', query: 'rollback' }]);
      },
      { timeout: 20_000, interval: 20 },
    );
    proc.child.stdout!.resume();
    const result = await proc.exited;
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').at(-2)).toBe('(50000 rows)');
  });

  it('sql stopped by a signal stops its query on the server too', async () => {
    const proc = startCli(['sql', 'select pg_sleep(120) as wcs_sql_stopped'], env);
    const running = SLEEPING_SQL;
    await vi.waitFor(async () => expect((await db.pool.query(running)).rows).toHaveLength(1), {
      timeout: 20_000,
      interval: 20,
    });
    proc.child.kill('SIGINT');
    expect((await proc.exited).code).toBe(9);
    // Without the check the query would sleep on for two minutes, holding its locks.
    await vi.waitFor(async () => expect((await db.pool.query(running)).rows).toEqual([]), {
      timeout: 10_000,
      interval: 50,
    });
  });

  it('sql exits 5 in one line when its connection is lost, not 2 as for a query of its own failing', async () => {
    const proc = startCli(['sql', 'select pg_sleep(60) as wcs_sql_lost'], env);
    await terminateBackend(SLEEPING_SQL);
    const result = await proc.exited;
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      'wecom-chain-sync: database unreachable: terminating connection due to administrator command\n',
    );
  });
});
