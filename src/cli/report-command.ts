// `report`: the chain summary and the sync freshness, as aligned text for people or JSON for scripts.
import { parseDatabase } from '../config.ts';
import { createLogger } from '../log.ts';
import { databaseVariable, explainDatabaseError } from '../reporting/errors.ts';
import { loadReport, reportJson, reportText } from '../reporting/report.ts';
import { openConfigured } from './database.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

export async function reportCommand(values: Record<string, unknown>): Promise<ExitCode> {
  const db = await openConfigured(parseDatabase(process.env), createLogger(), 1);
  try {
    const report = await loadReport(db).catch((err) =>
      explainDatabaseError(err, databaseVariable(db.driver)),
    );
    process.stdout.write(values.json ? `${reportJson(report)}\n` : reportText(report));
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
