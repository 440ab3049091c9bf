// Database refusals that are the setup's fault, not a bug: turned into one line that says what to do.
import { EXIT, ExitError } from '../cli/exit-codes.ts';

const code = (err: unknown) => (err as { code?: unknown }).code;

/** Rethrows a missing schema or view, or a refused privilege, as a configuration error naming DATABASE_URL. */
export function explainDatabaseError(err: unknown): never {
  if (err instanceof Error) {
    // 3F000 no such schema, 42P01 no such table or view.
    if (code(err) === '3F000' || code(err) === '42P01') {
      throw new ExitError(
        EXIT.config,
        `DATABASE_URL: ${err.message}: the database is not migrated to this version; run "wecom-chain-sync migrate" first`,
      );
    }
    // 42501 insufficient privilege.
    if (code(err) === '42501') {
      throw new ExitError(EXIT.config, `DATABASE_URL: the database refused: ${err.message}`);
    }
  }
  throw err;
}
