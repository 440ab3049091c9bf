// The Database seam over PGlite: PostgreSQL compiled to WASM, in this process, persisted in a directory.
// One connection: every session shares it, so a session's release never closes anything.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { ConfigError } from '../config.ts';
import {
  type Database,
  MIGRATIONS_CONFIG,
  MIGRATIONS_FOLDER,
  type Queryable,
  type Session,
} from './database.ts';
import { drizzleModule } from './drizzle.ts';

const { drizzle } = drizzleModule('drizzle-orm/pglite');
const { migrate } = drizzleModule('drizzle-orm/pglite/migrator');

const INT8 = 20;

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir never returns when a parent exists but cannot
 * hold the child (a path under /proc, a dangling symlink, a stale mount): it spins at full CPU, and the job
 * with it (nodejs/node#27198 is one of its relatives). A level that cannot be made is a configuration error.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const kind = kindOf(at);
    if (kind === 'directory') break;
    if (kind === 'other') throw new ConfigError('PGLITE_DIR', `${at} exists and is not a directory`);
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing) {
    try {
      mkdirSync(at);
    } catch (err) {
      throw new ConfigError('PGLITE_DIR', `cannot create ${at}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    throw new ConfigError('PGLITE_DIR', `cannot use ${path}: ${code}`);
  }
}

export async function openPglite(dir: string | null): Promise<Database> {
  if (dir) makeDirectory(dir);
  // bigint columns (ids, groupids, order) stay well inside 2^53: numbers, as with node-postgres.
  const client = new PGlite(dir ?? undefined, { parsers: { [INT8]: (v: string) => Number(v) } });
  await client.waitReady;
  const query: Queryable['query'] = async (text, params) => {
    const r = await client.query<Record<string, unknown>>(text, params);
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
    statement: (text) => query(text),
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
    migrate: () =>
      migrate(drizzle({ client }), {
        migrationsFolder: fileURLToPath(MIGRATIONS_FOLDER),
        ...MIGRATIONS_CONFIG,
      }),
    close: () => client.close(),
  };
}
