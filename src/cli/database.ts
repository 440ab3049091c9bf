import type { DatabaseConfig } from '../db/database.ts';
import { type Database, openDatabase } from '../db/database.ts';
import type { Logger } from '../log.ts';

/** Opens the configured database, saying once when it is the embedded one. */
export async function openConfigured(config: DatabaseConfig, log: Logger, poolSize = 2): Promise<Database> {
  if (config.driver === 'pglite') {
    log.info({ dir: config.dir }, 'DATABASE_URL is not set: using the embedded PostgreSQL (PGlite)');
  }
  return openDatabase(config, { poolSize });
}
