// Database refusals that are the setup's fault, not a bug: turned into one line that says what to do.
import { EXIT, ExitError } from '../cli/exit-codes.ts';

const code = (err: unknown) => (err as { code?: unknown }).code;

/**
 * Rethrows a missing schema or view, or a refused privilege, as a configuration error naming the variable
 * that chose the database: DATABASE_URL, or PGLITE_DIR for the embedded one.
 */
export function explainDatabaseError(err: unknown, culprit = 'DATABASE_URL'): never {
  if (err instanceof Error) {
    // 3F000 no such schema, 42P01 no such table or view, 42703 no such column (a view a later migration widened).
    if (code(err) === '3F000' || code(err) === '42P01' || code(err) === '42703') {
      throw new ExitError(
        EXIT.config,
        `${culprit}: ${err.message}: the database is not migrated to this version; run "wecom-chain-sync migrate" first`,
      );
    }
    // 42501 insufficient privilege.
    if (code(err) === '42501') {
      throw new ExitError(EXIT.config, `${culprit}: the database refused: ${err.message}`);
    }
  }
  throw err;
}

/** The variable that chose the database, for explainDatabaseError. */
export const databaseVariable = (driver: 'postgres' | 'pglite') =>
  driver === 'pglite' ? 'PGLITE_DIR' : 'DATABASE_URL';
