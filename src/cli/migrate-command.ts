import { parseDatabaseUrl } from '../config.ts';
import { runMigrations } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { createLogger } from '../log.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

export async function migrateCommand(): Promise<ExitCode> {
  const databaseUrl = parseDatabaseUrl(process.env);
  const log = createLogger();
  const pool = createPool(databaseUrl, 1);
  try {
    await runMigrations(pool);
    log.info('migrations applied');
    return EXIT.ok;
  } finally {
    await pool.end();
  }
}
