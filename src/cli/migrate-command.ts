import { parseDatabase } from '../config.ts';
import { createLogger } from '../log.ts';
import { migrate, openConfigured } from './database.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

export async function migrateCommand(): Promise<ExitCode> {
  const database = parseDatabase(process.env);
  const log = createLogger();
  const db = await openConfigured(database, log, 1);
  try {
    await migrate(db, log);
    log.info('the database is up to date');
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
