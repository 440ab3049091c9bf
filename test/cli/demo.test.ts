// The one-command experience: demo into the embedded database, then read it from another process.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  expectCursorResults,
  expectExactTimes,
  expectFaithfulValues,
  killLeftovers,
  logLines,
  runCli,
  runCliWithPreload,
  startCli,
} from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('demo and sql on the embedded database', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wcs-demo-'));
    // No DATABASE_URL: the embedded PGlite under PGLITE_DIR.
    env = { PGLITE_DIR: join(dir, 'data'), LOG_LEVEL: 'info' };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  // A failed assertion must not leave the scheduler of the lock test running.
  afterEach(killLeftovers);

  it('demo syncs the simulated network, through the faults asked for, and prints the report', async () => {
    // 2% of requests fail transiently: some of ~800 surely do, four in a row for one call almost never.
    const network = ['--chains', '2', '--groups', '20', '--corps', '600', '--latency-ms', '1'];
    const result = await runCli(['demo', ...network, '--fault-rate', '0.02'], env);
    expect(result.stderr).toContain('using the embedded PostgreSQL (PGlite)');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Chains (qualification counts are of joined corps');
    expect(result.stdout).toContain('Largest groups:');
    expect(result.stdout).toMatch(/wwdemo +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+s +1 +succeeded/);
    const retried = await runCli(
      [
        'sql',
        "select sum(value::int)::int as n from wecom.sync_runs, jsonb_each_text(stats->'api'->'retries')",
        '--json',
      ],
      env,
    );
    expect(JSON.parse(retried.stdout)[0].n).toBeGreaterThan(0);
  });

  it('a second process reads what the demo left, read-only', async () => {
    const count = await runCli(
      [
        'sql',
        'select count(*)::int as corps, count(distinct chain_id)::int as chains from wecom.chain_corps',
      ],
      env,
    );
    expect(count.code).toBe(0);
    expect(count.stdout).toBe('corps  chains\n-----  ------\n  600       2\n(1 row)\n');

    await expectExactTimes(env);
    await expectFaithfulValues(env);
    await expectCursorResults(env);

    const json = await runCli(['sql', 'select status from wecom.sync_runs', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual([{ status: 'succeeded' }]);

    const write = await runCli(['sql', 'delete from wecom.chain_corps'], env);
    expect(write.code).toBe(2);
    expect(write.stderr).toContain('read-only transaction');
    const sneaky = await runCli(['sql', 'commit; delete from wecom.chain_corps'], env);
    expect(sneaky.code).toBe(2);
    expect(sneaky.stderr).toContain('cannot insert multiple commands');
    const after = await runCli(['sql', 'select count(*)::int as n from wecom.chain_corps', '--json'], env);
    expect(JSON.parse(after.stdout)).toEqual([{ n: 600 }]);
  });

  it('report reads the embedded database too', async () => {
    const result = await runCli(['report', '--json'], env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.chains).toHaveLength(2);
    expect(report.freshness[0]).toMatchObject({ upstream_corpid: 'wwdemo', last_run_status: 'succeeded' });
  });

  it('sql stopped while PGlite runs its query exits 9 once the query ends, printing nothing', async () => {
    // PGlite runs a query on the process's one thread: the signal, sent as the query starts, waits for it.
    // The ES module the program imports (a require would load PGlite's CommonJS build, another class).
    const pglite = new URL('../../node_modules/@electric-sql/pglite/dist/index.js', import.meta.url).href;
    const preload = `
      const { PGlite } = await import(${JSON.stringify(pglite)});
      const query = PGlite.prototype.query;
      PGlite.prototype.query = function (text, ...rest) {
        if (String(text).includes('wcs_sql_stopped')) process.kill(process.pid, 'SIGTERM');
        return query.call(this, text, ...rest);
      };`;
    // A query that then fails, too: not its error's exit 2.
    for (const query of ['select 1 as wcs_sql_stopped', 'select 1 / 0 as wcs_sql_stopped']) {
      const result = await runCliWithPreload(['sql', query], env, preload);
      expect(result).toMatchObject({ code: 9, stdout: '' });
      expect(result.stderr).toMatch(/wecom-chain-sync: stopped by SIGTERM\n$/);
    }
  });

  it('sql stopped while PGlite reads a large result stops between batches, printing nothing', async () => {
    // The query's eight FETCHes (5,000 rows in batches of 16, 64, 256, then a thousand) each run without a turn
    // of the event loop: sql gives it one after each, where the signal, sent during the second, ends the process.
    const pglite = new URL('../../node_modules/@electric-sql/pglite/dist/index.js', import.meta.url).href;
    const preload = `
      const { PGlite } = await import(${JSON.stringify(pglite)});
      const query = PGlite.prototype.query;
      let fetches = 0;
      process.on('exit', () => process.stderr.write('fetches: ' + fetches + '\\n'));
      PGlite.prototype.query = function (text, ...rest) {
        if (String(text).startsWith('fetch') && ++fetches === 2) process.kill(process.pid, 'SIGTERM');
        return query.call(this, text, ...rest);
      };`;
    const result = await runCliWithPreload(['sql', 'select g from generate_series(1, 5000) g'], env, preload);
    expect(result).toMatchObject({ code: 9, stdout: '' });
    expect(Number(/fetches: (\d+)/.exec(result.stderr)?.[1])).toBeLessThan(8);
  });

  it('removes the temporary files a process stopped mid-query left in the embedded database', async () => {
    const tmp = join(env.PGLITE_DIR!, 'base', 'pgsql_tmp');
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'pgsql_tmp42.0'), 'left by a sort');
    expect((await runCli(['sql', 'select 1 as n', '--json'], env)).stdout).toBe('[{"n":1}]\n');
    expect(existsSync(join(tmp, 'pgsql_tmp42.0'))).toBe(false);
  });

  it('opens the embedded database through a symlink to its directory', async () => {
    const link = join(dir, 'link');
    symlinkSync(env.PGLITE_DIR!, link);
    const count = await runCli(['sql', 'select count(*)::int as n from wecom.chain_corps', '--json'], {
      ...env,
      PGLITE_DIR: link,
    });
    expect(count.code).toBe(0);
    expect(JSON.parse(count.stdout)).toEqual([{ n: 600 }]);
  });

  it('on an embedded database never migrated, sql and report say to migrate, naming PGLITE_DIR', async () => {
    const empty = { ...env, PGLITE_DIR: join(dir, 'empty') };
    for (const args of [['report'], ['sql', 'select * from wecom.chains']]) {
      const result = await runCli(args, empty);
      expect(result.code, args[0]).toBe(3);
      expect(result.stderr, args[0]).toMatch(
        /\nwecom-chain-sync: PGLITE_DIR: relation "wecom\.\w+" does not exist: the database is not migrated to this version; run "wecom-chain-sync migrate" first\n$/,
      );
    }
    // Where the job's tables are there, a missing one is the query's own mistake.
    const typo = await runCli(['sql', 'select * from wecom.chain'], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('query failed: relation "wecom.chain" does not exist');
  });

  it('a scheduler whose metrics port is taken exits 3 and lets go of the embedded database', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    try {
      const result = await runCli(['schedule'], {
        ...env,
        WECOM_CORP_ID: 'wwdemo',
        WECOM_CORP_SECRET: 'unused',
        SYNC_CRON: '0 0 1 1 *',
        METRICS_PORT: String((busy.address() as AddressInfo).port),
      });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('METRICS_PORT');
      expect(existsSync(join(env.PGLITE_DIR!, 'wecom-chain-sync.pid'))).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('sql without a query is a usage error', async () => {
    const result = await runCli(['sql'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('give exactly one query');
  });

  it('a second process is refused (exit 8) while one holds the embedded database, and let in after', async () => {
    const holder = startCli(['schedule'], {
      ...env,
      WECOM_CORP_ID: 'wwdemo',
      WECOM_CORP_SECRET: 'unused: the schedule does not fire during the test',
      SYNC_CRON: '0 0 1 1 *',
      METRICS_PORT: '0',
    });
    await vi.waitFor(
      () => expect(logLines(holder.stderr).some((l) => l.msg === 'scheduler started')).toBe(true),
      {
        timeout: 20_000,
        interval: 20,
      },
    );
    const refused = await runCli(['migrate'], env);
    expect(refused.code).toBe(8);
    expect(refused.stderr).toContain(`is in use by process ${holder.child.pid}`);
    holder.child.kill('SIGTERM');
    expect((await holder.exited).code).toBe(0);
    expect((await runCli(['migrate'], env)).code).toBe(0);
  });
});

describe("demo into DATABASE_URL's database", () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    // Fresh and not migrated: the demo migrates it.
    db = await createTestDatabase({ migrate: false });
    dir = await mkdtemp(join(tmpdir(), 'wcs-demo-url-'));
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs the simulated network there, and leaves the embedded database alone', async () => {
    // Where the embedded database would go: DATABASE_URL set, nothing may appear there.
    const pgliteDir = join(dir, 'data');
    const network = ['--chains', '2', '--groups', '20', '--corps', '600', '--latency-ms', '1'];
    const result = await runCli(['demo', ...network], {
      DATABASE_URL: db.url,
      PGLITE_DIR: pgliteDir,
      LOG_LEVEL: 'info',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('using the embedded PostgreSQL (PGlite)');
    const corps = await db.query(
      `select upstream_corpid, count(*)::int as corps, count(distinct chain_id)::int as chains
       from wecom.chain_corps group by 1`,
    );
    expect(corps.rows).toEqual([{ upstream_corpid: 'wwdemo', corps: 600, chains: 2 }]);
    const runs = await db.query('select upstream_corpid, status from wecom.sync_runs');
    expect(runs.rows).toEqual([{ upstream_corpid: 'wwdemo', status: 'succeeded' }]);
    expect(existsSync(pgliteDir)).toBe(false);
  });
});
