// The migrations in migrations/, applied through one session on either driver, each in a transaction, and
// recorded where drizzle's migrator records them (wecom.__drizzle_migrations: hash and created_at, the
// journal's `when`), so databases it migrated carry on.
//
// drizzle's migrator is not used, for two reasons. It always runs CREATE SCHEMA IF NOT EXISTS, which
// PostgreSQL refuses without CREATE on the database even when the schema exists, so a schema created
// beforehand for the sync's role (docs/schema.md, "Access") could not be used. And it passes over migrations
// that a newer version applied without a word.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../wecom/timing.ts';
import { inTransaction, MIGRATIONS_FOLDER, type Queryable, type Session } from './database.ts';
import { drizzleModule } from './drizzle.ts';

const { readMigrationFiles } = drizzleModule('drizzle-orm/migrator');
// Migration 0000 creates the schema too; by then it exists, and the statement would only be refused.
const CREATE_SCHEMA = 'CREATE SCHEMA IF NOT EXISTS "wecom";';

/**
 * How long a migration may wait for a lock on a table that other sessions use, how many times it is tried,
 * and the pause between tries. Its DDL needs a table to itself: waiting behind a dashboard's long query
 * without a limit would queue every later reader of that table behind it, for as long as that query runs.
 */
export interface MigrationPatience {
  lockTimeoutMs: number;
  attempts: number;
  pauseMs: number;
}

export const MIGRATION_PATIENCE: MigrationPatience = { lockTimeoutMs: 2_000, attempts: 10, pauseMs: 5_000 };

/** A migration that found a table it changes in use every time it was tried. */
export class MigrationLockError extends Error {
  override name = 'MigrationLockError';
  constructor(tag: string, patience: MigrationPatience, options: ErrorOptions) {
    super(
      `migration ${tag} was not applied: ${patience.attempts} times it waited ${patience.lockTimeoutMs} ms ` +
        'for tables other sessions are using (long queries, say); try again once they are done',
      options,
    );
  }
}

/**
 * A migration the rows already stored do not allow (two where a unique index is to have one, say): rolled
 * back whole, with PostgreSQL's words for which rows.
 */
export class MigrationDataError extends Error {
  override name = 'MigrationDataError';
  constructor(tag: string, cause: Error & { detail?: string }) {
    const rows = cause.detail ? `${cause.message}: ${cause.detail}` : cause.message;
    super(`migration ${tag} was not applied, as the data stored does not allow it: ${rows}`, { cause });
  }
}

/**
 * SQLSTATE class 23, integrity constraint violation, on one of the job's tables: what the migration asks of
 * the rows, they do not meet. Not one on the catalog (pg_catalog), which is a race with another session
 * creating the same object.
 */
const refusedByData = (err: unknown): err is Error => {
  const { code, schema } = err as { code?: unknown; schema?: unknown };
  return typeof code === 'string' && code.startsWith('23') && schema === 'wecom';
};

// The SQLSTATEs of a lock wait cut short: lock_not_available (lock_timeout expired), and deadlock_detected
// (PostgreSQL broke a cycle with another session by failing the migration: deadlock_timeout, 1 s by default,
// comes before the longer lock timeout).
const LOCK_WAIT_FAILED = new Set(['55P03', '40P01']);

export interface MigrationResult {
  applied: number;
  /** Applied to the database by a newer version of the job: this one does not know them. */
  unknown: number;
}

/** Whether schema wecom and its relation `name` exist: from the catalog, which any role may read. */
export async function wecomCatalog(
  db: Queryable,
  name: string,
): Promise<{ schema: boolean; table: boolean }> {
  const { rows } = await db.query(
    `select exists (select 1 from pg_namespace where nspname = 'wecom') as schema,
            exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'wecom' and c.relname = $1) as table`,
    [name],
  );
  return rows[0];
}

export async function applyMigrations(
  session: Session,
  patience = MIGRATION_PATIENCE,
  signal?: AbortSignal,
): Promise<MigrationResult> {
  const folder = fileURLToPath(MIGRATIONS_FOLDER);
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  // Each created only when missing: PostgreSQL checks the privilege to create before it looks whether the
  // object exists, and a role that may only use the schema (its owner migrated it) has nothing to create.
  const found = await wecomCatalog(session, '__drizzle_migrations');
  if (!found.schema) await session.query('create schema wecom');
  if (!found.table) {
    await session.query(
      'create table wecom.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
    );
  }
  const { rows } = await session.query<{ created_at: number }>(
    'select created_at from wecom.__drizzle_migrations',
  );
  const done = rows.map((r) => Number(r.created_at));
  const known = new Set(migrations.map((m) => m.folderMillis));
  // As drizzle's migrator decides: whatever is newer than the last one applied.
  const last = done.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  const pending = migrations.filter((m) => m.folderMillis > last);
  const tags = new Map(journal(folder).map((e) => [e.when, e.tag]));
  for (const m of pending) {
    await applyPatiently(session, m, tags.get(m.folderMillis) ?? String(m.folderMillis), patience, signal);
  }
  return { applied: pending.length, unknown: done.filter((t) => !known.has(t)).length };
}

type Migration = ReturnType<typeof readMigrationFiles>[number];

/** One migration in a transaction of its own, tried again while a table it changes is in use. */
async function applyPatiently(
  session: Session,
  m: Migration,
  tag: string,
  patience: MigrationPatience,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await inTransaction(session, async () => {
        await session.query(`select set_config('lock_timeout', $1, true)`, [`${patience.lockTimeoutMs}ms`]);
        for (const statement of m.sql) {
          if (statement.trim() !== CREATE_SCHEMA) await session.query(statement);
        }
        await session.query('insert into wecom.__drizzle_migrations (hash, created_at) values ($1, $2)', [
          m.hash,
          m.folderMillis,
        ]);
      });
      return;
    } catch (err) {
      if (refusedByData(err)) throw new MigrationDataError(tag, err);
      if (!LOCK_WAIT_FAILED.has((err as { code?: string }).code ?? '')) throw err;
      if (attempt >= patience.attempts) throw new MigrationLockError(tag, patience, { cause: err });
    }
    await sleep(patience.pauseMs, signal);
  }
}

function journal(folder: string): { when: number; tag: string }[] {
  return JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')).entries;
}
