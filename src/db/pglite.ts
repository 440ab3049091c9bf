// The Database seam over PGlite: PostgreSQL compiled to WASM, in this process, persisted in a directory.
// One connection: every session shares it, so a session's release never closes anything.
import { realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type QueryOptions } from '@electric-sql/pglite';
import { ConfigError } from '../config.ts';
import { type Database, keepingBounds, type Session, STATEMENT_PARSERS } from './database.ts';
import { drizzleModule } from './drizzle.ts';
import { applyMigrations } from './migrations.ts';
import { lockDirectory, makeDirectory } from './pglite-dir.ts';

const { drizzle } = drizzleModule('drizzle-orm/pglite');

const INT8 = 20;

// WASI's numbers for the errors a directory can give (emscripten uses them).
const WASI_ERRNO: Record<number, string> = {
  2: 'EACCES',
  44: 'ENOENT',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  63: 'EPERM',
  69: 'EROFS',
};

function failure(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0]!;
  const errno = (err as { errno?: unknown }).errno;
  return typeof errno === 'number' ? (WASI_ERRNO[errno] ?? `errno ${errno}`) : String(err);
}

export async function openPglite(dir: string | null): Promise<Database> {
  let unlock = () => {};
  if (dir) {
    makeDirectory(dir);
    unlock = lockDirectory(dir);
  }
  // PGlite cannot mount a directory by a symlink to it: the real path.
  const dataDir = dir === null ? undefined : realpathSync(dir);
  // A process stopped mid-query (sql between two FETCHes of a sort that spilled) leaves its temporary files,
  // which PGlite, unlike a server starting up, never removes. The lock says no one else is using them.
  if (dataDir) rmSync(join(dataDir, 'base', 'pgsql_tmp'), { recursive: true, force: true });
  // bigint columns (ids, groupids, order) stay well inside 2^53: numbers, as with node-postgres.
  const client = new PGlite(dataDir, { parsers: { [INT8]: (v: string) => Number(v) } });
  try {
    await client.waitReady;
  } catch (err) {
    unlock();
    if (dir === null) throw err;
    // The directory is the culprit: one PGlite may not write (a volume owned by another user), or files it
    // cannot read. WASM reports the first as an emscripten ErrnoError, which is no Error and has no message.
    throw new ConfigError('PGLITE_DIR', `cannot open the embedded database in ${dir}: ${failure(err)}`);
  }
  const query = async (text: string, params?: unknown[], options?: QueryOptions) => {
    const r = await client.query<Record<string, unknown>>(text, params, options);
    return {
      // biome-ignore lint/suspicious/noExplicitAny: see Queryable
      rows: r.rows as any[],
      rowCount: r.affectedRows ?? r.rows.length,
      fields: r.fields.map((f) => f.name),
    };
  };
  const never = new AbortController().signal;
  const session: Session = {
    lost: never,
    query,
    // PGlite's query() always takes the extended protocol: one statement.
    // PGlite's own parsers, array types included once it has read them, taken when the statement runs.
    statement: (text) => {
      const own = Object.entries(client.parsers).map(([oid, parse]) => [oid, keepingBounds(parse)]);
      return query(text, [], {
        parsers: { ...Object.fromEntries(own), ...STATEMENT_PARSERS },
        rowMode: 'array',
      });
    },
    async copyFrom(target, rows) {
      if (rows.length === 0) return;
      await client.query(`copy ${target} from '/dev/blob'`, [], { blob: new Blob([rows.join('')]) });
    },
    release() {},
  };
  return {
    driver: 'pglite',
    orm: drizzle({ client }),
    concurrentSessions: 1,
    query,
    session: async () => session,
    // One process owns the directory, so there is nobody to serialise with.
    migrate: () => applyMigrations(session),
    close: async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}
