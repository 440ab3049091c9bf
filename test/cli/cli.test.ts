// The CLI as users and schedulers meet it: real processes, real Postgres, the simulator over HTTP.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimNetwork, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { logLines, runCli, runCliWithPreload, startCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startRefusingPooler } from '../helpers/refusing-pooler.ts';
import { CORP_ID, expectedSnapshot, SECRET, storedSnapshot } from '../helpers/simulated.ts';
import { startTransactionPooler } from '../helpers/transaction-pooler.ts';

describe('wecom-chain-sync CLI', () => {
  let db: TestDatabase;
  let sim: Simulator;
  const network = SimNetwork.generate({
    seed: 5,
    chains: 2,
    groups: 12,
    corps: 300,
    pendingRatio: 0.2,
    maxDepth: 3,
  });
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    sim = await startSimulator({ network, corpId: CORP_ID, corpSecret: SECRET });
    env = {
      DATABASE_URL: db.url,
      WECOM_API_BASE: sim.url,
      WECOM_CORP_ID: CORP_ID,
      WECOM_CORP_SECRET: SECRET,
      WECOM_MAX_ATTEMPTS: '2',
      WECOM_TIMEOUT_MS: '2000',
    };
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('prints help for the program and for each command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/migrate .*\n.*run .*\n.*schedule .*\n.*simulate/);
    const run = await runCli(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('WECOM_RATE_LIMIT_PER_MIN');
    expect(run.stdout).toContain('Exit codes');
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['sync'])).code).toBe(2);
    for (const name of ['toString', 'constructor', '__proto__']) {
      const builtin = await runCli([name]);
      expect(builtin.code, name).toBe(2);
      expect(builtin.stderr, name).toContain(`unknown command "${name}"`);
    }
    const help = await runCli(['help', 'constructor']);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('unknown command "constructor"');
    const bad = await runCli(['run', '--fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toContain("Unknown option '--fast'");
  });

  it('exits 3 with one line naming a missing or invalid variable, before any work', async () => {
    const missing = await runCli(['run'], { ...env, WECOM_CORP_SECRET: '' });
    expect(missing).toMatchObject({
      code: 3,
      stderr: 'wecom-chain-sync: configuration error: WECOM_CORP_SECRET: is required but not set\n',
    });
    const invalid = await runCli(['run'], { ...env, WECOM_CONCURRENCY: 'lots' });
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toBe(
      'wecom-chain-sync: configuration error: WECOM_CONCURRENCY: must be a whole number, got "lots"\n',
    );
    const tables = await db.pool.query(
      `select count(*)::int as n from information_schema.schemata where schema_name = 'wecom'`,
    );
    expect(tables.rows[0].n).toBe(0);
  });

  it('exits 3 naming PGLITE_DIR when it cannot be made a directory or written, instead of hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wcs-pglite-dir-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
      mkdirSync(join(dir, 'read-only'), { mode: 0o555 });
      const cases: [string, string][] = [
        // Refused by the pid file or, for root, by PGlite itself (which reported it as "[object Object]").
        [join(dir, 'read-only'), 'EACCES'],
        [join(dir, 'file'), 'exists and is not a directory'],
        [join(dir, 'file', 'sub'), 'ENOTDIR'],
        // Node's own recursive mkdir spins forever on these two.
        [join(dir, 'dangling', 'sub'), `cannot create ${join(dir, 'dangling')}: EEXIST`],
        ['/proc/wcs-no-such-dir', 'cannot create /proc/wcs-no-such-dir: ENOENT'],
      ];
      for (const [pgliteDir, problem] of cases) {
        const result = await runCli(['migrate'], { PGLITE_DIR: pgliteDir });
        expect(result.code, pgliteDir).toBe(3);
        expect(result.stderr, pgliteDir).toMatch(
          /^wecom-chain-sync: configuration error: PGLITE_DIR: [^\n]*\n$/,
        );
        expect(result.stderr, pgliteDir).toContain(problem);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 5 when the database is unreachable, without showing its password', async () => {
    const result = await runCli(['run'], {
      ...env,
      DATABASE_URL: 'postgres://sync:hunter2@127.0.0.1:1/nowhere',
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^wecom-chain-sync: database unreachable: .*ECONNREFUSED/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exits 5, in one line, when the socket is missing or the server refuses TLS', async () => {
    // A server that answers PostgreSQL's SSLRequest with "N", as one without TLS does.
    const noTls = createServer((socket) => socket.once('data', () => socket.end('N')));
    await new Promise<void>((resolve) => noTls.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = noTls.address() as AddressInfo;
      for (const url of [
        'postgres://sync:hunter2@localhost/db?host=/nonexistent-wcs-socket-dir',
        `postgres://sync:hunter2@127.0.0.1:${port}/db?sslmode=verify-full`,
      ]) {
        const result = await runCli(['run'], { ...env, DATABASE_URL: url });
        expect(result.code, url).toBe(5);
        expect(result.stderr, url).toMatch(/^wecom-chain-sync: database unreachable: [^\n]*\n$/);
        expect(result.stderr, url).not.toContain('hunter2');
      }
    } finally {
      noTls.close();
    }
  });

  it('exits 5, in one line, when the server asks for a password that nothing gives', async () => {
    // A server that asks for SCRAM-SHA-256 and answers the client's first message. node-postgres then fails
    // for want of a password and keeps the socket open: the process must still end.
    const message = (code: number, body: string) => {
      const head = Buffer.alloc(9);
      head.write('R');
      head.writeInt32BE(8 + Buffer.byteLength(body), 1);
      head.writeInt32BE(code, 5);
      return Buffer.concat([head, Buffer.from(body)]);
    };
    const scram = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(message(10, 'SCRAM-SHA-256\0\0'));
        socket.once('data', () => socket.write(message(11, 'r=abc,s=c2FsdA==,i=4096')));
      });
    });
    await new Promise<void>((resolve) => scram.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = scram.address() as AddressInfo;
      for (const command of [['migrate'], ['report']]) {
        const result = await runCli(command, { DATABASE_URL: `postgres://sync@127.0.0.1:${port}/db` });
        expect(result.code, command[0]).toBe(5);
        expect(result.stderr, command[0]).toBe(
          'wecom-chain-sync: database unreachable: the server asks for a password, and none is given (in DATABASE_URL, PGPASSWORD or ~/.pgpass)\n',
        );
      }
    } finally {
      scram.close();
    }
  });

  it('exits 5, in one line, when the role may open no more connections', async () => {
    const role = `wcs_cli_limited_${process.pid}`;
    await db.pool.query(`create role ${role} login connection limit 0`);
    try {
      const url = new URL(db.url);
      url.username = role;
      const result = await runCli(['report'], { DATABASE_URL: url.toString() });
      expect(result.code).toBe(5);
      expect(result.stderr).toBe(
        `wecom-chain-sync: database unreachable: too many connections for role "${role}"\n`,
      );
    } finally {
      await db.pool.query(`drop role ${role}`);
    }
  });

  it('simulate: a port in use is one line and exit 2, and a secret given is not printed back', async () => {
    const taken = await runCli(['simulate', '--port', new URL(sim.url).port]);
    expect(taken).toMatchObject({
      code: 2,
      stderr: `wecom-chain-sync: simulate: cannot listen on 127.0.0.1:${new URL(sim.url).port}: EADDRINUSE\n`,
    });
    const own = startCli(['simulate', '--port', '0', '--corps', '10', '--secret', 'a-real-looking-secret']);
    await vi.waitFor(() => expect(own.stdout).toContain('WECOM_CORP_SECRET='), {
      timeout: 20_000,
      interval: 20,
    });
    own.child.kill('SIGTERM');
    expect((await own.exited).code).toBe(0);
    expect(own.stdout).toContain('WECOM_CORP_SECRET=<the --secret given>');
    expect(own.stdout).not.toContain('a-real-looking-secret');
  });

  it('exits 3 in one line when the server refuses a setting DATABASE_URL asks for (options=-c)', async () => {
    const url = new URL(db.url);
    url.searchParams.set('options', '-c wcs_no_such_setting=1');
    for (const args of [['migrate'], ['report'], ['sql', 'select 1']]) {
      const result = await runCli(args, { DATABASE_URL: url.toString() });
      expect(result, args[0]).toMatchObject({
        code: 3,
        stderr:
          'wecom-chain-sync: DATABASE_URL: the server refused a setting the connection asks for (a parameter of the URL such as options=-c or statement_timeout, or PGOPTIONS): unrecognized configuration parameter "wcs_no_such_setting"\n',
      });
    }
    // Through PgBouncer, which refuses `options` with a connection-class code: still 3, which a Job does not retry.
    const pooler = await startRefusingPooler('08P01', 'unsupported startup parameter: options');
    try {
      const result = await runCli(['sql', 'select 1'], {
        DATABASE_URL: `${pooler.url}?options=-c%20work_mem%3D64MB`,
      });
      expect(result).toMatchObject({
        code: 3,
        stderr:
          'wecom-chain-sync: DATABASE_URL: the server refused a setting the connection asks for (a parameter of the URL such as options=-c or statement_timeout, or PGOPTIONS): unsupported startup parameter: options\n',
      });
    } finally {
      await pooler.close();
    }
  });

  it('exits 3 in one line, having synced nothing, through a pooler in transaction mode', async () => {
    const pooler = await startTransactionPooler(db.url);
    const pooled =
      'wecom-chain-sync: DATABASE_URL: statements of one connection reach different server connections';
    try {
      for (const args of [['migrate'], ['run']]) {
        const result = await runCli(args, { ...env, DATABASE_URL: pooler.url });
        expect(result.code, args[0]).toBe(3);
        expect(result.stderr.split('\n').filter((l) => l.startsWith('wecom-chain-sync:'))).toEqual([
          expect.stringMatching(new RegExp(`^${pooled}`)),
        ]);
      }
    } finally {
      await pooler.close();
    }
    // Reading works through it: sql and report hold nothing between transactions, and sql sets nothing for
    // its session, which would stay with the server connection for the pooler's other clients.
    const reading = await startTransactionPooler(db.url);
    try {
      expect(await runCli(['sql', 'select 1 as one'], { DATABASE_URL: reading.url })).toMatchObject({
        code: 0,
      });
      const other = new pg.Client({ connectionString: reading.url });
      await other.connect();
      try {
        const { rows } = await other.query('show idle_in_transaction_session_timeout');
        expect(rows[0].idle_in_transaction_session_timeout).toBe('0');
      } finally {
        await other.end();
      }
    } finally {
      await reading.close();
    }
    // In statement mode sql's read-only transaction is refused: PgBouncer's 08P01 is no outage (exit 5).
    const statements = await startTransactionPooler(db.url, { statementMode: true });
    try {
      expect(await runCli(['sql', 'select 1 as one'], { DATABASE_URL: statements.url })).toMatchObject({
        code: 3,
        stderr:
          "wecom-chain-sync: DATABASE_URL: the pooler refused sql's read-only transaction (transaction blocks not allowed in statement pooling mode): use session or transaction pooling\n",
      });
    } finally {
      await statements.close();
    }
  });

  it('simulate refuses in one line a network that would not fit its heap, before generating one', async () => {
    // Under the CLI's own heap flags, generating 2,000,000 corps ended in V8's "heap out of memory" abort.
    const flags = { NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=512' };
    const result = await runCli(['simulate', '--port', '0', '--corps', '2000000'], flags);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'wecom-chain-sync: --corps 2000000 and --groups 300 need about 649 MB of heap for the network, and simulate may use 402 MB of its 536: fewer, or node --max-old-space-size',
    );
    const groups = await runCli(['demo', '--corps', '1000', '--groups', '1000000'], flags);
    expect(groups.code).toBe(2);
    expect(groups.stderr).toMatch(
      /^wecom-chain-sync: --corps 1000 and --groups 1000000 need about 621 MB of heap for the network, and demo may use 268 MB/,
    );
  });

  it('simulate --max-concurrent answers 45033 to a request past that many in flight', async () => {
    const own = startCli([
      'simulate',
      '--port',
      '0',
      '--corps',
      '10',
      '--latency-ms',
      '300',
      '--max-concurrent',
      '1',
    ]);
    await vi.waitFor(() => expect(own.stdout).toMatch(/listening on (\S+)/), {
      timeout: 20_000,
      interval: 20,
    });
    try {
      const url = `${own.stdout.match(/listening on (\S+)/)![1]}/cgi-bin/gettoken?corpid=wwsimulator&corpsecret=simulator-secret`;
      const errcodeOf = async (r: Promise<Response>) =>
        ((await (await r).json()) as { errcode: number }).errcode;
      const answers = await Promise.all([fetch(url), fetch(url)].map(errcodeOf));
      expect(answers.sort()).toEqual([0, 45033]);
    } finally {
      own.child.kill('SIGTERM');
      await own.exited;
    }
  });

  it('migrates', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: db.url });
    expect(result.code).toBe(0);
    const tables = await db.pool.query(
      `select count(*)::int as n from information_schema.tables where table_schema = 'wecom'`,
    );
    expect(tables.rows[0].n).toBeGreaterThanOrEqual(4);
  });

  it('exits 3, in one line, when the role may not create what the migrations need', async () => {
    const role = `wcs_cli_no_create_${process.pid}`;
    const empty = await createTestDatabase({ migrate: false });
    await db.pool.query(`create role ${role} login`);
    try {
      const url = new URL(empty.url);
      url.username = role;
      const result = await runCli(['migrate'], { DATABASE_URL: url.toString() });
      const name = url.pathname.slice(1);
      expect(result).toMatchObject({
        code: 3,
        stderr: `wecom-chain-sync: DATABASE_URL: the database refused the migrations: permission denied for database ${name}\n`,
      });
    } finally {
      await empty.drop();
      await db.pool.query(`drop role ${role}`);
    }
  });

  it("exits 3, in one line, when the migrated database will not take the sync's writes", async () => {
    const standby = await createTestDatabase();
    try {
      const name = new URL(standby.url).pathname.slice(1);
      await db.pool.query(`alter database ${name} set default_transaction_read_only = on`);
      const result = await runCli(['run'], {
        DATABASE_URL: standby.url,
        WECOM_CORP_ID: 'wwreadonly',
        WECOM_CORP_SECRET: 'never-sent',
        WECOM_API_BASE: 'http://127.0.0.1:9',
      });
      expect(result).toMatchObject({
        code: 3,
        stderr: `wecom-chain-sync: DATABASE_URL: the database refused the sync's writes: cannot execute UPDATE in a read-only transaction\n`,
      });
    } finally {
      await standby.drop();
    }
  });

  describe('sql into a pipe', () => {
    const query = "select g, repeat('x', 50) as x from generate_series(1, 50000) g";

    it('writes all it has for a reader slow to read, before it exits', async () => {
      const proc = startCli(['sql', query], { DATABASE_URL: db.url });
      // The reader takes nothing for a while: the pipe fills and the rest waits in the process.
      proc.child.stdout!.pause();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      proc.child.stdout!.resume();
      const result = await proc.exited;
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n').at(-2)).toBe('(50000 rows)');
    });

    it("says a missing table is the query's own, also to a role that may not see the job's schema", async () => {
      const role = `wcs_cli_outsider_${process.pid}`;
      await db.pool.query(`create role ${role} login`);
      try {
        const url = new URL(db.url);
        url.username = role;
        const result = await runCli(['sql', 'select * from nosuch'], { DATABASE_URL: url.toString() });
        expect(result).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(
            /^wecom-chain-sync: query failed: relation "nosuch" does not exist\n/,
          ),
        });
      } finally {
        await db.pool.query(`drop role ${role}`);
      }
    });

    it('exits with its own code when nobody reads its messages any more', async () => {
      const proc = startCli(['sql', 'select * from nosuch'], { DATABASE_URL: db.url });
      proc.child.stderr!.destroy();
      expect((await proc.exited).code).toBe(2);
    });

    it('stops quietly when the reader goes away, as `| head` does', async () => {
      const proc = startCli(['sql', query], { DATABASE_URL: db.url });
      proc.child.stdout!.once('data', () => proc.child.stdout!.destroy());
      const result = await proc.exited;
      expect(result).toMatchObject({ code: 0, stderr: '' });
    });
  });

  it('exits 4 when WeCom refuses the secret, and never prints it', async () => {
    const result = await runCli(['run'], { ...env, WECOM_CORP_SECRET: 'wrong-secret-value' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('40001');
    expect(result.stderr).not.toContain('wrong-secret-value');
    // The log says why as well, at a level a scheduler logging only warnings keeps: its one word of it.
    const finished = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'sync finished');
    expect(finished).toMatchObject({ level: 50, status: 'failed', error: expect.stringContaining('40001') });
    const run = await db.pool.query(`select status, error from wecom.sync_runs order by id desc limit 1`);
    expect(run.rows[0].status).toBe('failed');
    expect(run.rows[0].error).toContain('40001');
  });

  it('syncs and exits 0, logging nothing secret', async () => {
    const result = await runCli(['run'], { ...env, LOG_LEVEL: 'info' });
    expect(result.code).toBe(0);
    expect(await storedSnapshot(db.pool)).toEqual(expectedSnapshot(network));
    expect(result.stderr).toContain('"msg":"sync finished"');
    expect(result.stderr).not.toContain(SECRET);
  });

  it("refuses to start with Node's undici debug output on, which prints every request's URL", async () => {
    const result = await runCli(['run'], { ...env, NODE_DEBUG: 'undici' });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^wecom-chain-sync: configuration error: NODE_DEBUG: [^\n]*\n$/);
  });

  it("counts the last hour's runs against the hourly limit, and says so when they spent much of it", async () => {
    const last = await db.pool.query(
      `select (stats -> 'api' -> 'calls' ->> 'get_chain_corpinfo')::int as n from wecom.sync_runs
       where status = 'succeeded' order by id desc limit 1`,
    );
    const spent = last.rows[0].n as number;
    expect(spent).toBeGreaterThan(100);
    const perHour = spent + 100; // more than half of it spent; enough left for a re-run
    const result = await runCli(['run'], {
      ...env,
      LOG_LEVEL: 'info',
      WECOM_RATE_LIMIT_PER_HOUR: String(perHour),
    });
    expect(result.code).toBe(0);
    const said = result.stderr
      .split('\n')
      .filter((line) => line.includes('hourly call limit'))
      .map((line) => JSON.parse(line));
    expect(said).toEqual([
      expect.objectContaining({ perHour, calls: expect.objectContaining({ get_chain_corpinfo: spent }) }),
    ]);
  });

  it('warns of a misspelt variable, which it would otherwise pass over', async () => {
    const result = await runCli(['run'], { ...env, WECOM_CONCURENCY: '2' });
    expect(result.code).toBe(0);
    expect(logLines(result.stderr)).toContainEqual(
      expect.objectContaining({
        level: 40,
        variable: 'WECOM_CONCURENCY',
        meant: 'WECOM_CONCURRENCY',
        msg: 'unknown variable WECOM_CONCURENCY ignored: did you mean WECOM_CONCURRENCY?',
      }),
    );
  });

  it('exits 7 when a chain cannot be synced and 6 when none can', async () => {
    const [first] = network.chains.keys();
    sim.faults.inject({
      endpoint: 'get_chain_group',
      count: Infinity,
      match: { chainId: first! },
      fault: { errcode: 60011 },
    });
    const partial = await runCli(['run'], env);
    expect(partial.code).toBe(7);
    expect(partial.stderr).toContain(`sync partial`);
    expect(partial.stderr).toContain(first!);

    sim.faults.inject({ endpoint: 'get_chain_group', count: Infinity, fault: { errcode: 60011 } });
    const failed = await runCli(['run'], env);
    sim.faults.clear();
    expect(failed.code).toBe(6);
    expect(failed.stderr).toContain('sync failed');
  });

  it('stops with exit 9 and one line on a SIGTERM that comes while its modules are still loading', async () => {
    // The process sends itself SIGTERM as it resolves the program's modules. Until a handler is registered, that
    // kills a process, and a container's PID 1 loses the signal.
    const result = await runCliWithPreload(
      ['migrate'],
      { DATABASE_URL: db.url },
      `import { registerHooks } from 'node:module';
let sent = false;
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === './commands.ts' && !sent) {
      sent = true;
      process.kill(process.pid, 'SIGTERM');
    }
    return next(specifier, context);
  },
});
`,
    );
    expect(result).toMatchObject({
      code: 9,
      signal: null,
      stderr: 'wecom-chain-sync: stopped by SIGTERM\n',
    });
  });

  it('keeps a finished run’s exit code when a signal comes as it closes its connections', async () => {
    // The process sends itself SIGTERM as it ends its connection pool, once the run is recorded and its outcome
    // decided.
    const result = await runCliWithPreload(
      ['run'],
      env,
      `import pg from ${JSON.stringify(import.meta.resolve('pg'))};
const end = pg.Pool.prototype.end;
pg.Pool.prototype.end = function (...args) {
  process.stderr.write('preload: SIGTERM sent\\n');
  process.kill(process.pid, 'SIGTERM');
  return end.apply(this, args);
};
`,
    );
    expect(result).toMatchObject({ code: 0, signal: null, stderr: 'preload: SIGTERM sent\n' });
    const { rows } = await db.pool.query('select status from wecom.sync_runs order by id desc limit 1');
    expect(rows).toEqual([{ status: 'succeeded' }]);
  });

  // Preloaded through NODE_OPTIONS: says at exit whether Node loaded its TypeScript stripper (amaro).
  const STRIPPER_PROBE =
    "--import=data:text/javascript,process.on('exit',()=>process.stderr.write('stripper:'+process.moduleLoadList.some((m)=>m.includes('amaro'))))";

  it('compile-cache fills NODE_COMPILE_CACHE so that a sync never loads the TypeScript stripper', async () => {
    const unset = await runCli(['compile-cache']);
    expect(unset).toMatchObject({
      code: 3,
      stderr: 'wecom-chain-sync: configuration error: NODE_COMPILE_CACHE: must name the directory to fill\n',
    });

    const cache = mkdtempSync(join(tmpdir(), 'wcs-compile-cache-'));
    try {
      writeFileSync(join(cache, 'file'), '');
      const unusable = await runCli(['compile-cache'], { NODE_COMPILE_CACHE: join(cache, 'file') });
      expect(unusable).toMatchObject({
        code: 3,
        stderr: `wecom-chain-sync: configuration error: NODE_COMPILE_CACHE: "${join(cache, 'file')}" cannot be used: Node could not open it as a writable directory\n`,
      });

      const cold = await runCli(['run'], { ...env, NODE_COMPILE_CACHE: cache, NODE_OPTIONS: STRIPPER_PROBE });
      expect(cold.code).toBe(0);
      // Only what that run loaded was cached; the rest of the CLI was not.
      expect(cold.stderr).toMatch(/stripper:true$/);

      const filled = await runCli(['compile-cache'], { NODE_COMPILE_CACHE: cache });
      expect(filled.code).toBe(0);
      expect(filled.stdout).toMatch(/^compile cache: \d+ modules in /);
      for (const command of [['run'], ['report'], ['schedule', '--help']]) {
        const warm = await runCli(command, {
          ...env,
          NODE_COMPILE_CACHE: cache,
          NODE_OPTIONS: STRIPPER_PROBE,
        });
        expect(warm.code, `${command.join(' ')}: ${warm.stderr}`).toBe(0);
        expect(warm.stderr).toMatch(/stripper:false$/);
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
