import type { DatabaseConfig } from '../db/database.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { DatabaseEncodingError, TransactionPoolingError } from '../db/errors.ts';
import { MigrationDataError, MigrationLockError } from '../db/migrations.ts';
import type { Logger } from '../log.ts';
import { databaseVariable } from '../reporting/errors.ts';
import { EXIT, ExitError } from './exit-codes.ts';

// 42501 insufficient privilege (no CREATE on the database, a schema someone else owns, a role that may
// only read), 25006 a read-only transaction (a standby): the setup's fault, which no retry mends.
const REFUSED = new Set(['42501', '25006']);

/** `err` as a configuration error naming the database's variable, if the database refused `what`. */
export function refusal(db: Database, what: string, err: unknown): unknown {
  if (!REFUSED.has((err as { code?: unknown }).code as string)) return err;
  return new ExitError(
    EXIT.config,
    `${databaseVariable(db.driver)}: the database refused ${what}: ${(err as Error).message}`,
  );
}

/** Opens the configured database, saying once when it is the embedded one. */
export async function openConfigured(config: DatabaseConfig, log: Logger, poolSize = 2): Promise<Database> {
  if (config.driver === 'pglite') {
    log.info({ dir: config.dir }, 'DATABASE_URL is not set: using the embedded PostgreSQL (PGlite)');
  }
  return openDatabase(config, { poolSize });
}

/**
 * Applies pending migrations. A database that a newer version migrated further is used as it is, with a
 * warning: every migration keeps the version before it working (as Flyway passes over "future" migrations),
 * so a rollback, or a run of the old image between the migrate Job and the new one, still syncs.
 */
export async function migrate(db: Database, log: Logger, signal?: AbortSignal): Promise<void> {
  const { applied, unknown } = await db.migrate(signal).catch((err: unknown) => {
    if (err instanceof MigrationLockError || err instanceof MigrationDataError)
      throw new ExitError(EXIT.database, `${databaseVariable(db.driver)}: ${err.message}`);
    if (err instanceof TransactionPoolingError || err instanceof DatabaseEncodingError)
      throw new ExitError(EXIT.config, `${databaseVariable(db.driver)}: ${err.message}`);
    throw refusal(db, 'the migrations', err);
  });
  if (applied > 0) log.info({ applied }, 'migrations applied');
  if (unknown > 0) {
    log.warn(
      { unknown },
      'the database has migrations this version does not know, from a newer version: using it as it is',
    );
  }
}
