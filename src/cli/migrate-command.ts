import { parseDatabase } from '../config.ts';
import { createLogger } from '../log.ts';
import { openConfigured } from './database.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

export async function migrateCommand(): Promise<ExitCode> {
  const database = parseDatabase(process.env);
  const log = createLogger();
  const db = await openConfigured(database, log, 1);
  try {
    await db.migrate();
    log.info('migrations applied');
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
