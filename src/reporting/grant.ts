// A read-only role for BI: USAGE on schema wecom, SELECT on every table and view in it, now and later.
import type pg from 'pg';
import { inTransaction } from '../db/database.ts';
import { SCHEMA } from '../db/views.ts';

// Lower case (what PostgreSQL makes of an unquoted name, so `GRANT bi_reader TO alice` just works), digits,
// _ $ and -; at most 63 bytes, PostgreSQL's identifier limit.
const ROLE_NAME = /^[a-z_][a-z0-9_$-]{0,62}$/;
// Names PostgreSQL reserves or gives a meaning of their own.
const RESERVED = new Set(['public', 'none', 'all', 'current_user', 'current_role', 'session_user', 'user']);

/** Returns why `name` cannot be used as the role, or null when it can. */
export function roleNameProblem(name: string): string | null {
  if (!ROLE_NAME.test(name)) {
    return 'use 1 to 63 lower-case letters, digits, "_", "$" or "-", starting with a letter or "_"';
  }
  if (name.startsWith('pg_')) return 'names starting with "pg_" are reserved by PostgreSQL';
  if (RESERVED.has(name)) return `"${name}" is reserved by PostgreSQL`;
  return null;
}

/** "name" with embedded quotes doubled: safe in any statement whatever the name holds. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export class SchemaMissingError extends Error {
  override name = 'SchemaMissingError';
}

export class GrantRefusedError extends Error {
  override name = 'GrantRefusedError';
}

/** The grants ran but left the role without read access: PostgreSQL only warns when the grantor may not grant. */
export class GrantIncompleteError extends Error {
  override name = 'GrantIncompleteError';
}

export interface GrantResult {
  role: string;
  created: boolean;
  /** Tables and views in the schema now readable by the role. */
  relations: number;
  /** The role whose future tables and views the default privileges cover: the one that ran the grant. */
  grantor: string;
  /** The owner of the schema's tables, when some are owned by a role other than the grantor. */
  otherOwners: string[];
  /** Tables and views the role can also change, through privileges it had before (none are taken away). */
  writable: string[];
  /** Other ways to change the schema it had before: what each lets it do. */
  otherWrites: string[];
}

// Another process creating the same role or granting at the same moment: try again, it is idempotent.
const RETRYABLE = new Set(['42710', '23505', '40001', '40P01', 'XX000']);

/**
 * Creates the role (NOLOGIN) unless it exists and grants it read access to schema wecom, including tables
 * and views the running role creates later. Idempotent: running it again changes nothing.
 */
export async function grantReadonly(client: pg.ClientBase, role: string): Promise<GrantResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await grantOnce(client, role);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= 3 || code === undefined || !RETRYABLE.has(code)) throw err;
    }
  }
}

async function grantOnce(client: pg.ClientBase, role: string): Promise<GrantResult> {
  const r = quoteIdent(role);
  const s = quoteIdent(SCHEMA);
  return inTransaction(client, async () => {
    const me = (await client.query('select current_user as name')).rows[0].name as string;
    if (me === role) throw new GrantRefusedError(`"${role}" is the role running this command`);
    const schema = await client.query('select 1 from pg_namespace where nspname = $1', [SCHEMA]);
    if (schema.rowCount === 0) throw new SchemaMissingError(`the database has no schema ${SCHEMA}`);
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    const created = exists.rowCount === 0;
    if (created) await client.query(`create role ${r} nologin`);
    await client.query(`grant usage on schema ${s} to ${r}`);
    await client.query(`grant select on all tables in schema ${s} to ${r}`);
    await client.query(`alter default privileges in schema ${s} grant select on tables to ${r}`);
    // What the role can now read, and who owns what. A grantor without the grant option gets a warning,
    // not an error, and grants nothing: the result is checked, not assumed.
    const { rows } = await client.query(
      `select has_schema_privilege($1, $2, 'USAGE') as usage,
              count(*) filter (where c.relkind <> 'S')::int as relations,
              coalesce(array_agg(c.relname::text order by c.relname)
                       filter (where c.relkind <> 'S' and not has_table_privilege($1, c.oid, 'SELECT')), '{}') as unreadable,
              coalesce(array_agg(distinct pg_get_userbyid(c.relowner)::text) filter (where c.relkind <> 'S' and c.relowner <> (select oid from pg_roles where rolname = current_user)), '{}') as other_owners,
              -- A sequence's UPDATE allows setval: the next run id would collide with a stored one.
              -- Of every role it may SET ROLE to, itself included: a NOINHERIT membership confers no
              -- privilege of its own, so checking the role alone would leave those out.
              coalesce(array_agg(c.relname::text order by c.relname)
                       -- A view none of them could change (no rule or trigger) is not counted.
                       filter (where (c.relkind <> 'v' or pg_relation_is_updatable(c.oid, true) <> 0)
                         and exists (
                         select 1 from pg_roles m
                         where pg_has_role($1, m.oid, 'MEMBER')
                           and case when c.relkind = 'S' then has_sequence_privilege(m.oid, c.oid, 'UPDATE')
                                    else has_any_column_privilege(m.oid, c.oid, 'INSERT, UPDATE')
                                         or has_table_privilege(m.oid, c.oid, 'DELETE, TRUNCATE, TRIGGER') end)),
                       '{}') as writable,
              exists (select 1 from pg_roles m
                      where pg_has_role($1, m.oid, 'MEMBER') and has_schema_privilege(m.oid, $2, 'CREATE')) as creates,
              -- Before PostgreSQL 16, CREATEROLE may grant any role but a superuser, the sync's own included.
              current_setting('server_version_num')::int < 160000
                and exists (select 1 from pg_roles m where pg_has_role($1, m.oid, 'MEMBER') and m.rolcreaterole)
                as grants_roles
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = $2 and c.relkind in ('r', 'v', 'm', 'p', 'f', 'S')`,
      [role, SCHEMA],
    );
    const { usage, relations, unreadable, other_owners, writable, creates, grants_roles } = rows[0] as {
      usage: boolean;
      relations: number;
      unreadable: string[];
      other_owners: string[];
      writable: string[];
      creates: boolean;
      grants_roles: boolean;
    };
    if (!usage || unreadable.length > 0) {
      const missing = usage
        ? `SELECT on ${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? ', …' : ''}`
        : `USAGE on schema ${SCHEMA}`;
      throw new GrantIncompleteError(
        `"${me}" could not grant ${missing} to "${role}"; run this as the role that owns the ${SCHEMA} tables (the one that runs the migrations)`,
      );
    }
    const otherWrites = [
      ...(creates ? [`create objects in schema ${SCHEMA} (CREATE)`] : []),
      ...(grants_roles
        ? ["grant itself any role, the sync's included (CREATEROLE, before PostgreSQL 16)"]
        : []),
    ];
    return { role, created, relations, grantor: me, otherOwners: other_owners, writable, otherWrites };
  });
}
