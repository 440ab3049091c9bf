// grant-readonly as a real process: the role reads everything in wecom, writes nothing, and is covered for
// tables created later; and the documented minimal grants for the sync's own (non-superuser) role.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { roleArgument } from '../../src/cli/grant-command.ts';
import { REPORTING_VIEWS } from '../../src/db/views.ts';
import { quoteIdent, roleNameProblem } from '../../src/reporting/grant.ts';
import { SimNetwork, startSimulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { CORP_ID, SECRET } from '../helpers/simulated.ts';

const suffix = randomBytes(4).toString('hex');
// Roles belong to the whole server: names of this file's own, dropped at the end.
const READER = `wcs_reader_${suffix}`;
const SYNC = `wcs_sync_${suffix}`;
const PRECREATED = `wcs_bi-${suffix}`;
// A login that can read wecom but may not pass that on.
const BYSTANDER = `wcs_bystander_${suffix}`;
const TARGET = `wcs_target_${suffix}`;
const LOGIN = `wcs_login_${suffix}`;
// An existing role that can already write to some tables.
const WRITER = `wcs_writer_${suffix}`;
// An existing role that may insert into one table, and one that may SET ROLE to it (NOINHERIT).
const INSERTER = `wcs_inserter_${suffix}`;
const MEMBER = `wcs_member_${suffix}`;
// Existing roles that may write in other ways: create in the schema, grant themselves roles.
const CREATOR = `wcs_creator_${suffix}`;
const ROLEMAKER = `wcs_rolemaker_${suffix}`;

function asUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  return u.toString();
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Tables and views of schema wecom. */
async function relations(c: pg.Client): Promise<{ name: string; kind: string; column: string }[]> {
  const { rows } = await c.query(
    `select c.relname as name, c.relkind::text as kind,
            (select attname from pg_attribute where attrelid = c.oid and attnum = 1) as column
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'wecom' and c.relkind in ('r', 'v') order by 1`,
  );
  return rows;
}

async function errorCode(c: pg.Client, sql: string): Promise<string | undefined> {
  await c.query('savepoint s');
  try {
    await c.query(sql);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  } finally {
    await c.query('rollback to savepoint s');
  }
}

describe('grant-readonly', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    await withClient(inject('adminDatabaseUrl'), async (c) => {
      for (const role of [
        LOGIN,
        READER,
        SYNC,
        PRECREATED,
        BYSTANDER,
        TARGET,
        WRITER,
        MEMBER,
        INSERTER,
        CREATOR,
        ROLEMAKER,
      ])
        await c.query(`drop role if exists ${quoteIdent(role)}`);
    });
  });

  it('creates a NOLOGIN role that can read every table and view, and nothing else', async () => {
    const first = await runCli(['grant-readonly', READER], { DATABASE_URL: db.url });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created role "${READER}" (NOLOGIN)`);
    expect(first.stdout).toContain(`GRANT "${READER}" TO some_login_user;`);

    await withClient(db.url, async (c) => {
      const role = await c.query('select rolcanlogin, rolsuper from pg_roles where rolname = $1', [READER]);
      expect(role.rows).toEqual([{ rolcanlogin: false, rolsuper: false }]);
      const all = await relations(c);
      expect(all.filter((r) => r.kind === 'v').map((r) => r.name)).toEqual([...REPORTING_VIEWS].sort());
      expect(all.filter((r) => r.kind === 'r').length).toBeGreaterThanOrEqual(7);
      await c.query('begin');
      await c.query(`set local role ${quoteIdent(READER)}`);
      for (const { name } of all) {
        await c.query(`select * from wecom.${quoteIdent(name)} limit 1`);
      }
      for (const { name, column } of all.filter((r) => r.kind === 'r')) {
        const t = `wecom.${quoteIdent(name)}`;
        const col = quoteIdent(column);
        expect(await errorCode(c, `insert into ${t} default values`), `insert into ${name}`).toBe('42501');
        expect(await errorCode(c, `update ${t} set ${col} = ${col} where false`), `update ${name}`).toBe(
          '42501',
        );
        expect(await errorCode(c, `delete from ${t} where false`), `delete from ${name}`).toBe('42501');
        expect(await errorCode(c, `truncate ${t}`), `truncate ${name}`).toBe('42501');
      }
      expect(await errorCode(c, 'create table wecom.mine (x int)')).toBe('42501');
      await c.query('rollback');
    });
  });

  it('covers tables and views the owner creates later, and running it again changes nothing', async () => {
    const privileges = (c: pg.Client) =>
      c
        .query(
          `select c.relname, c.relacl::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'wecom' and c.relkind in ('r', 'v')
           union all select 'default:' || defaclobjtype::text, defaclacl::text from pg_default_acl
           union all select 'schema', nspacl::text from pg_namespace where nspname = 'wecom'
           order by 1`,
        )
        .then((r) => r.rows);
    const before = await withClient(db.url, privileges);
    const again = await runCli(['grant-readonly', READER], { DATABASE_URL: db.url });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`role "${READER}" already exists`);
    expect(await withClient(db.url, privileges)).toEqual(before);

    await withClient(db.url, async (c) => {
      // As the owner (the role that ran grant-readonly), as a later migration would.
      await c.query('create table wecom.later_table (x int)');
      await c.query('insert into wecom.later_table values (42)');
      await c.query('create view wecom.later_view as select x + 1 as y from wecom.later_table');
      await c.query('begin');
      await c.query(`set local role ${quoteIdent(READER)}`);
      expect((await c.query('select x from wecom.later_table')).rows).toEqual([{ x: 42 }]);
      expect((await c.query('select y from wecom.later_view')).rows).toEqual([{ y: 43 }]);
      expect(await errorCode(c, 'insert into wecom.later_table values (1)')).toBe('42501');
      await c.query('rollback');
      await c.query('drop view wecom.later_view');
      await c.query('drop table wecom.later_table');
    });
  });

  it('warns, in one line, when an existing role can also write, and takes nothing away', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`create role ${quoteIdent(WRITER)} nologin`);
      await c.query(`grant usage on schema wecom to ${quoteIdent(WRITER)}`);
      await c.query(`grant insert on wecom.chain_corps to ${quoteIdent(WRITER)}`);
      await c.query(`grant update (heartbeat_at) on wecom.sync_runs to ${quoteIdent(WRITER)}`);
      await c.query(`grant truncate on wecom.chains to ${quoteIdent(WRITER)}`);
      // A trigger of its own would rewrite every row the sync writes.
      await c.query(`grant trigger on wecom.chain_groups to ${quoteIdent(WRITER)}`);
      // setval: the next run's id would collide with a stored one.
      await c.query(`grant update on sequence wecom.sync_runs_id_seq to ${quoteIdent(WRITER)}`);
    });
    const result = await runCli(['grant-readonly', WRITER], { DATABASE_URL: db.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`role "${WRITER}" already exists`);
    expect(result.stderr.trim().split('\n')).toEqual([
      `warning: "${WRITER}" can also change 5 wecom tables, views or sequences (chain_corps, chain_groups, chains, …) through privileges it already had, which this command does not take away; REVOKE them, or use a new role`,
    ]);
    await withClient(db.url, async (c) => {
      const can = await c.query(
        `select has_table_privilege($1, 'wecom.chain_corps', 'INSERT') as insert,
                has_table_privilege($1, 'wecom.chain_corps', 'SELECT') as select`,
        [WRITER],
      );
      expect(can.rows).toEqual([{ insert: true, select: true }]);
    });
  });

  it('warns about what an existing role may write as another role, through a NOINHERIT membership too', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`create role ${quoteIdent(INSERTER)} nologin`);
      await c.query(`grant usage on schema wecom to ${quoteIdent(INSERTER)}`);
      await c.query(`grant insert on wecom.chain_corps to ${quoteIdent(INSERTER)}`);
      // Of no privilege itself, but may SET ROLE to the inserter, and to pg_write_all_data.
      await c.query(`create role ${quoteIdent(MEMBER)} nologin noinherit`);
      await c.query(`grant ${quoteIdent(INSERTER)} to ${quoteIdent(MEMBER)}`);
    });
    const one = await runCli(['grant-readonly', MEMBER], { DATABASE_URL: db.url });
    expect(one.code).toBe(0);
    expect(one.stderr).toMatch(
      new RegExp(
        `^warning: "${MEMBER}" can also change 1 wecom tables, views or sequences \\(chain_corps\\) `,
      ),
    );
    const owned = await withClient(db.url, async (c) => {
      await c.query(`grant pg_write_all_data to ${quoteIdent(MEMBER)}`);
      const { rows } = await c.query(
        `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'wecom' and c.relkind in ('r', 'S')`,
      );
      return rows[0].n as number;
    });
    // Every table and sequence; not the views, which no role can change.
    const all = await runCli(['grant-readonly', MEMBER], { DATABASE_URL: db.url });
    expect(all.stderr).toMatch(
      new RegExp(`^warning: "${MEMBER}" can also change ${owned} wecom tables, views or sequences `),
    );
  });

  it('warns about an existing role that may create in the schema, or grant itself the sync role', async () => {
    const version = await withClient(db.url, async (c) => {
      await c.query(`create role ${quoteIdent(CREATOR)} nologin`);
      await c.query(`grant create on schema wecom to ${quoteIdent(CREATOR)}`);
      await c.query(`create role ${quoteIdent(ROLEMAKER)} nologin createrole`);
      return Number((await c.query('show server_version_num')).rows[0].server_version_num);
    });
    const creator = await runCli(['grant-readonly', CREATOR], { DATABASE_URL: db.url });
    expect(creator.code).toBe(0);
    expect(creator.stderr).toBe(
      `warning: "${CREATOR}" may also create objects in schema wecom (CREATE) through privileges it already had, which this command does not take away; REVOKE them, or use a new role\n`,
    );
    const rolemaker = await runCli(['grant-readonly', ROLEMAKER], { DATABASE_URL: db.url });
    expect(rolemaker.code).toBe(0);
    // From PostgreSQL 16 on, CREATEROLE grants only the roles it administers.
    expect(rolemaker.stderr).toBe(
      version < 160000
        ? `warning: "${ROLEMAKER}" may also grant itself any role, the sync's included (CREATEROLE, before PostgreSQL 16) through privileges it already had, which this command does not take away; REVOKE them, or use a new role\n`
        : '',
    );
  });

  it('a login granted the role can run report; without it, report exits 3 naming the refusal', async () => {
    await withClient(db.url, (c) => c.query(`create role ${quoteIdent(LOGIN)} login`));
    const url = asUser(db.url, LOGIN);
    const refused = await runCli(['report', '--json'], { DATABASE_URL: url });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/permission denied/);
    await withClient(db.url, (c) => c.query(`grant ${quoteIdent(READER)} to ${quoteIdent(LOGIN)}`));
    const report = await runCli(['report', '--json'], { DATABASE_URL: url });
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toEqual({ chains: [], freshness: [] });
  });

  it('refuses bad role names with one usage line, before touching the database', async () => {
    for (const bad of [
      'BI_Reader',
      'pg_reader',
      'public',
      '1reader',
      'a b',
      'x;drop role postgres',
      'é',
      'r'.repeat(64),
    ]) {
      const result = await runCli(['grant-readonly', bad], {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
      });
      expect(result.code, bad).toBe(2);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines, bad).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^wecom-chain-sync: invalid role name .*; usage: wecom-chain-sync grant-readonly <role>$/,
      );
    }
    const none = await runCli(['grant-readonly'], { DATABASE_URL: db.url });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing the role name/);
    const two = await runCli(['grant-readonly', 'a', 'b'], { DATABASE_URL: db.url });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/expected one role name, got 2/);
    expect(roleArgument(['bi_reader'])).toBe('bi_reader');
    expect(roleNameProblem('bi-reader_2$')).toBeNull();
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });

  it('exit codes: 3 without DATABASE_URL or migrations, 5 when the database is unreachable', async () => {
    const noUrl = await runCli(['grant-readonly', READER], {});
    expect(noUrl.code).toBe(3);
    expect(noUrl.stderr).toMatch(/DATABASE_URL/);
    const unreachable = await runCli(['grant-readonly', READER], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    expect(unreachable.code).toBe(5);
    const bare = await createTestDatabase({ migrate: false });
    try {
      const result = await runCli(['grant-readonly', READER], { DATABASE_URL: bare.url });
      expect(result.code).toBe(3);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/no schema wecom; run "wecom-chain-sync migrate"/);
    } finally {
      await bare.drop();
    }
  });

  it('the documented minimal setup: a non-superuser sync role migrates, syncs its schema and grants', async () => {
    const admin = inject('adminDatabaseUrl');
    const name = `wcs_test_access_${suffix}`;
    await withClient(admin, async (c) => {
      await c.query(`create role ${quoteIdent(SYNC)} login nosuperuser nocreatedb nocreaterole`);
      await c.query(`create database ${name}`);
      await c.query(`grant create on database ${name} to ${quoteIdent(SYNC)}`);
      // The sync role may not create roles: an administrator creates the BI role once.
      await c.query(`create role ${quoteIdent(PRECREATED)} nologin`);
    });
    const url = asUser(new URL(`/${name}`, admin).toString(), SYNC);
    try {
      const migrated = await runCli(['migrate'], { DATABASE_URL: url });
      expect(migrated.stderr).not.toMatch(/error/i);
      expect(migrated.code).toBe(0);
      // A whole sync (advisory lock, temp stage, merge, history) with nothing more.
      const network = SimNetwork.generate({
        seed: 7,
        chains: 1,
        groups: 5,
        corps: 50,
        pendingRatio: 0.2,
        maxDepth: 3,
      });
      const sim = await startSimulator({ network, corpId: CORP_ID, corpSecret: SECRET });
      try {
        const run = await runCli(['run'], {
          DATABASE_URL: url,
          WECOM_API_BASE: sim.url,
          WECOM_CORP_ID: CORP_ID,
          WECOM_CORP_SECRET: SECRET,
        });
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
      } finally {
        await sim.close();
      }
      const missing = await runCli(['grant-readonly', `wcs_nobody_${suffix}`], {
        DATABASE_URL: url,
      });
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/permission denied to create role/);
      const granted = await runCli(['grant-readonly', PRECREATED], { DATABASE_URL: url });
      expect(granted.stderr).toBe('');
      expect(granted.code).toBe(0);
      expect(granted.stdout).toContain(`"${SYNC}" creates in wecom from now on`);
      await withClient(asUser(url, 'postgres'), async (c) => {
        const owners = await c.query(
          `select distinct pg_get_userbyid(c.relowner)::text as owner from pg_class c
           join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'wecom'`,
        );
        expect(owners.rows).toEqual([{ owner: SYNC }]);
        await c.query('begin');
        await c.query(`set local role ${quoteIdent(PRECREATED)}`);
        const summary = await c.query(
          'select corps_joined + corps_pending as corps from wecom.chain_summary',
        );
        expect(summary.rows).toEqual([{ corps: 50 }]);
        await c.query('rollback');
      });
      // Run by a role that can read but not grant, PostgreSQL only warns and grants nothing.
      await withClient(admin, async (c) => {
        await c.query(`create role ${quoteIdent(BYSTANDER)} login`);
        await c.query(`create role ${quoteIdent(TARGET)} nologin`);
      });
      await withClient(url, async (c) => {
        await c.query(`grant usage on schema wecom to ${quoteIdent(BYSTANDER)}`);
        await c.query(`grant select on all tables in schema wecom to ${quoteIdent(BYSTANDER)}`);
      });
      const refused = await runCli(['grant-readonly', TARGET], { DATABASE_URL: asUser(url, BYSTANDER) });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(`DATABASE_URL: "${BYSTANDER}" could not grant`);
      expect(refused.stdout).toBe('');
    } finally {
      await withClient(admin, async (c) => {
        await c.query(`drop database if exists ${name} with (force)`);
      });
    }
  });
});
