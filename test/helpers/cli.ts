// Runs the real CLI in a child process, as a scheduler would.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<CliResult>;
}

const started = new Set<ChildProcess>();

/** Kills whatever a failed test left running, so it cannot hold locks into the next test. */
export function killLeftovers(): void {
  for (const child of started) child.kill('SIGKILL');
}

export function startCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    // Only what the test gives: nothing from the developer's shell leaks in.
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  started.add(child);
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      started.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return startCli(args, env).exited;
}

/** runCli with `source` preloaded as an ES module (NODE_OPTIONS=--import): to act on the process from inside. */
export function runCliWithPreload(
  args: string[],
  env: Record<string, string | undefined>,
  source: string,
): Promise<CliResult> {
  return runCli(args, {
    ...env,
    NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(source)}`,
  });
}

/** The JSON log lines a process wrote to stderr. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/**
 * `sql` prints times to the microsecond: one copied from its output into a query (an as-of filter) finds
 * the row it came from. Needs a database with at least one run.
 */
export async function expectExactTimes(env: Record<string, string>): Promise<void> {
  const shown = await runCli(
    [
      'sql',
      `select started_at, timestamp '2026-11-29 15:02:09.187566' as t,
              array[timestamp '2026-11-29 15:02:09.187566'] as ts
       from wecom.sync_runs order by started_at desc limit 1`,
    ],
    env,
  );
  const [startedAt, t, ts] = shown.stdout.split('\n')[2]!.split(/ {2,}/);
  expect([t, ts]).toEqual(['2026-11-29 15:02:09.187566', '{"2026-11-29 15:02:09.187566"}']);
  const found = await runCli(
    [
      'sql',
      `select count(*) as n, 9007199254740993 as big, date '2026-11-29' as d
       from wecom.sync_runs where started_at = '${startedAt}'`,
      '--json',
    ],
    env,
  );
  // A bigint is a number, written exactly past 2^53; a date is not moved by the process's time zone.
  expect(found.stdout).toBe('[{"n":1,"big":9007199254740993,"d":"2026-11-29"}]\n');
}

/**
 * `sql` reads a query's result from a cursor, in batches, on either driver, and prints it once it has it all:
 * the table's widths are those of every row, a volatile function runs once (its widths fit what is printed), a
 * query that fails in its third batch or tries to write (nextval, SELECT INTO) prints nothing, and a second
 * statement is refused as before.
 */
export async function expectCursorResults(env: Record<string, string>): Promise<void> {
  const batches = await runCli(
    ['sql', `select g, repeat('x', g / 500) as x from generate_series(1, 2500) g`],
    env,
  );
  const lines = batches.stdout.split('\n');
  expect(lines.slice(0, 3)).toEqual(['   g  x', '----  -----', '   1']);
  expect(lines.slice(-3)).toEqual(['2500  xxxxx', '(2500 rows)', '']);
  // Were it run again to print, the widths measured on the first run would not fit the values printed.
  const volatile = await runCli(
    ['sql', `select repeat('x', (random() * 1000)::int) as r from generate_series(1, 5)`],
    env,
  );
  const [, rule, ...values] = volatile.stdout.split('\n').slice(0, -2);
  expect(rule!.length).toBe(Math.max(1, ...values.map((v) => v.length)));
  const refused = async (query: string, ...options: string[]) => {
    const { code, stdout, stderr } = await runCli(['sql', query, ...options], env);
    return { code, stdout, said: stderr.split('\n').at(-2) };
  };
  for (const options of [[], ['--json']]) {
    expect(await refused('select 1 / (g - 2500) as n from generate_series(1, 5000) g', ...options)).toEqual({
      code: 2,
      stdout: '',
      said: 'wecom-chain-sync: query failed: division by zero',
    });
  }
  expect(await refused(`select nextval('wecom.sync_runs_id_seq')`)).toEqual({
    code: 2,
    stdout: '',
    said: 'wecom-chain-sync: query failed: cannot execute nextval() in a read-only transaction',
  });
  // What a cursor cannot hold is refused in PostgreSQL's words for the statement, not for a DECLARE.
  expect(await refused('select 1 as n into wcs_sql_into')).toEqual({
    code: 2,
    stdout: '',
    said: 'wecom-chain-sync: query failed: cannot execute SELECT INTO in a read-only transaction',
  });
  // Planned to read every row, not the first tenth a cursor is planned for unless told.
  expect((await runCli(['sql', 'show cursor_tuple_fraction', '--json'], env)).stdout).toBe(
    '[{"cursor_tuple_fraction":"1"}]\n',
  );
  // An empty statement before the query, which PostgreSQL passes over.
  expect((await runCli(['sql', '; select 1 as n', '--json'], env)).stdout).toBe('[{"n":1}]\n');
  expect(await refused('select 1; commit; delete from wecom.chain_corps')).toMatchObject({
    code: 2,
    said: 'wecom-chain-sync: query failed: cannot insert multiple commands into a prepared statement',
  });
}

/**
 * `sql` on either driver: each column its own value, names shared or not; values JSON or JavaScript would
 * change (interval, bytea, NaN) as PostgreSQL prints them, and arrays of bigints and numerics exact; COPY
 * and an ambiguous --json refused in one line.
 */
export async function expectFaithfulValues(env: Record<string, string>): Promise<void> {
  const table = await runCli(
    [
      'sql',
      `select 1 as n, 'a' as n, interval '1 day 2 hours' as i, interval '0' as z, '\\xdeadbeef'::bytea as b,
              '{NaN,-Infinity,null}'::float8[] as f, '[2:3]={1,2}'::int8[] as bounded`,
    ],
    env,
  );
  expect(table.stdout.split('\n')[0]!.trim().split(/ {2,}/)).toEqual([
    'n',
    'n',
    'i',
    'z',
    'b',
    'f',
    'bounded',
  ]);
  expect(table.stdout.split('\n')[2]!.trim().split(/ {2,}/)).toEqual([
    '1',
    'a',
    '1 day 02:00:00',
    '00:00:00',
    '\\xdeadbeef',
    '["NaN","-Infinity",null]',
    '[2:3]={1,2}',
  ]);
  const numbers = await runCli(
    [
      'sql',
      `select 'NaN'::float8 as nan, '-Infinity'::float8 as inf, 1.5::float8 as x,
              array[9007199254740993, 1]::int8[] as big, array[12345678901234567890.5, 0.1000000000000000000001] as num`,
      '--json',
    ],
    env,
  );
  // Arrays stay arrays, their bigints numbers written exactly as scalar ones are, numerics text.
  expect(numbers.stdout).toBe(
    '[{"nan":"NaN","inf":"-Infinity","x":1.5,"big":[9007199254740993,1],"num":["12345678901234567890.5","0.1000000000000000000001"]}]\n',
  );
  // json and jsonb as PostgreSQL prints them in the table (its null is no SQL NULL, repeated keys stay), and
  // in JSON with their numbers exact; an array with explicit bounds of any element type keeps them.
  const jsonQuery = `select row_to_json(t) as j, '{"a":1,"a":2}'::json as d, 'null'::jsonb as jn, null::jsonb as sn,
                            '{"b": [1, 2.50]}'::jsonb as jb, '[0:1]={10,20}'::int[] as a, '[0:1]={x,y}'::text[] as t
                     from (select 9007199254740993::int8 as id, 1.10::numeric as amount) t`;
  const jsonTable = await runCli(['sql', jsonQuery], env);
  expect(jsonTable.stdout.split('\n')[2]!.trim().split(/ {2,}/)).toEqual([
    '{"id":9007199254740993,"amount":1.10}',
    '{"a":1,"a":2}',
    'null',
    'NULL',
    '{"b": [1, 2.50]}',
    '[0:1]={10,20}',
    '[0:1]={x,y}',
  ]);
  const jsonOut = await runCli(['sql', jsonQuery, '--json'], env);
  expect(jsonOut.stdout).toBe(
    '[{"j":{"id":9007199254740993,"amount":1.10},"d":{"a":2},"jn":null,"sn":null,"jb":{"b":[1,2.50]},"a":"[0:1]={10,20}","t":"[0:1]={x,y}"}]\n',
  );
  // The last line: on PGlite a line before says which database is used.
  const refused = async (query: string, ...options: string[]) => {
    const { code, stdout, stderr } = await runCli(['sql', query, ...options], env);
    return { code, stdout, said: stderr.split('\n').at(-2) };
  };
  expect(await refused('select 1 as n, 2 as n', '--json')).toEqual({
    code: 2,
    stdout: '',
    said: 'wecom-chain-sync: --json needs a name per column, and "n" names two: alias one',
  });
  // What PostgreSQL passes over before a statement: an empty one, nested comments, a comment ended by CR.
  expect(await refused('; /* a /* b */ */ -- c\r (COPY wecom.chains TO STDOUT')).toEqual({
    code: 2,
    stdout: '',
    said: 'wecom-chain-sync: sql does not run COPY: select the rows instead (--json for a script)',
  });
}
