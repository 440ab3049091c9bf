// docs/schema.md stays true: it describes every column of every table and view, and every example query
// runs (as a read-only BI role, on the known data set) and finds something.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { grantReadonly, quoteIdent } from '../../src/reporting/grant.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SQL, UPSTREAM } from './fixture.ts';

const DOC = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
const READER = `wcs_docs_reader_${randomBytes(4).toString('hex')}`;

/** The text under each "### `name`" heading, up to the next heading. */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = markdown.split(/^### /m).slice(1);
  for (const part of parts) {
    const name = /^`(\w+)`/.exec(part)?.[1];
    if (name) out.set(name, part.split(/^## /m)[0]!);
  }
  return out;
}

/** The ```sql blocks of the "Example queries" section. */
function examples(markdown: string): string[] {
  const part = markdown.slice(markdown.indexOf('## Example queries'));
  return [...part.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** psql-style :'name' parameters → $1, $2… in order of first use, with their values. */
function bind(sql: string, values: Record<string, unknown>): { text: string; params: unknown[] } {
  const names: string[] = [];
  const text = sql.replace(/:'(\w+)'/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no sample value for :'${name}'`);
    if (!names.includes(name)) names.push(name);
    return `$${names.indexOf(name) + 1}`;
  });
  return { text, params: names.map((n) => values[n]) };
}

describe('docs/schema.md', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(FIXTURE_SQL);
    const client = await db.pool.connect();
    try {
      await grantReadonly(client, READER);
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await db?.drop();
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    await admin.query(`drop role if exists ${quoteIdent(READER)}`);
    await admin.end();
  });

  it('describes every column of every table and view in wecom', async () => {
    const { rows } = await db.pool.query(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'wecom' and table_name <> '__drizzle_migrations' order by table_name, ordinal_position`,
    );
    const docs = sections(DOC);
    const missing = rows
      .filter((r) => !docs.get(r.table_name)?.includes(`\`${r.column_name}\``))
      .map((r) => `${r.table_name}.${r.column_name}`);
    expect(missing).toEqual([]);
    expect(new Set(rows.map((r) => r.table_name)).size).toBe(11);
  });

  it('has at least ten example queries, and each runs as the read-only role and returns rows', async () => {
    const queries = examples(DOC);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    const now: Date = (await db.pool.query('select max(heartbeat_at) as t from wecom.sync_runs')).rows[0].t;
    const sample = {
      chain_id: 'chA',
      corp_key: 'wwa4',
      as_of: new Date(now.getTime() - 30 * 86_400_000).toISOString(),
    };
    const client = await db.pool.connect();
    try {
      for (const [i, sql] of queries.entries()) {
        const { text, params } = bind(sql, sample);
        await client.query('begin read only');
        try {
          await client.query(`set local role ${quoteIdent(READER)}`);
          const { rows } = await client.query(text, params);
          expect(rows.length, `example ${i + 1} returned no rows:\n${sql}`).toBeGreaterThan(0);
        } catch (err) {
          throw new Error(`example ${i + 1} failed: ${(err as Error).message}\n${sql}`);
        } finally {
          await client.query('rollback');
        }
      }
    } finally {
      client.release();
    }
  });

  it('example 1 (as of a date) returns the chain as it was then', async () => {
    const now: Date = (await db.pool.query('select max(heartbeat_at) as t from wecom.sync_runs')).rows[0].t;
    const { text, params } = bind(examples(DOC)[0]!, {
      chain_id: 'chA',
      as_of: new Date(now.getTime() - 30 * 86_400_000).toISOString(),
    });
    const { rows } = await db.pool.query(text, params);
    // Ordered by group, then by name (whose order depends on the collation): compare as a set.
    expect(rows.map((r) => [r.corp_key, r.group_name, r.is_joined]).sort()).toEqual([
      ['pending:pa4', '不可见上级', false],
      ['pending:pa5', '一级经销商', false],
      ['pending:pa8', '华东', false],
      ['wwa1', '上海', true],
      ['wwa2', null, true],
      ['wwa6', '一级经销商', true],
    ]);
  });

  /** `sql` on the fixture with `setup` applied, in a transaction rolled back after. */
  async function withRows(setup: string, sql: string, params: unknown[] = []) {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(setup);
      return (await client.query(sql, params)).rows;
    } finally {
      await client.query('rollback');
      client.release();
    }
  }

  it('example 6 (removed and not back) lists a corp that came back and went again once, at its last removal', async () => {
    const version = (from: number, to: number, run: number) =>
      `('${UPSTREAM}', 'chA', 'wwa9', 'wwa9', 'wwa9', null, '九号', 'A9', 10, null, true, 2,
        now() - interval '${from} days', now() - interval '${to} days', ${run}, ${run + 1})`;
    const rows = await withRows(
      `insert into wecom.chain_corp_history (upstream_corpid, chain_id, entity_key, corp_key, corpid, pending_corpid,
         corp_name, custom_id, groupid, invite_userid, is_joined, qualification_status, valid_from, valid_to,
         opened_run_id, closed_run_id)
       values ${version(25, 20, 1)}, ${version(15, 5, 3)}`,
      examples(DOC)[5]!,
    );
    const now = Date.now();
    const days = rows
      .filter((r) => r.corp_key === 'wwa9')
      .map((r) => Math.round((now - r.removed_at.getTime()) / 86_400_000));
    expect(days).toEqual([5]);
  });

  it('example 12 (the group tree then) starts a path at a group whose parent was not visible, as group_tree does', async () => {
    const { text, params } = bind(examples(DOC)[11]!, {
      chain_id: 'chA',
      as_of: new Date().toISOString(),
    });
    const { rows } = await db.pool.query(text, params);
    // Ordered by path, whose order depends on the collation: compare by group.
    expect(rows.map((r) => [r.groupid, r.depth, r.path]).sort((a, b) => a[0] - b[0])).toEqual([
      [10, 1, '一级经销商'],
      [11, 2, '一级经销商 / 华东'],
      [12, 3, '一级经销商 / 华东 / 上海'],
      [20, 1, '不可见上级'],
      [21, 2, '不可见上级 / Child of 20'],
      [31, 1, '孤儿'],
    ]);
  });
});
