// `grant-readonly <role>`: a NOLOGIN role that can read schema wecom (tables and views, now and later).
import { parseDatabaseUrl } from '../config.ts';
import { createPool } from '../db/pool.ts';
import { explainDatabaseError } from '../reporting/errors.ts';
import {
  GrantIncompleteError,
  GrantRefusedError,
  grantReadonly,
  quoteIdent,
  roleNameProblem,
  SchemaMissingError,
} from '../reporting/grant.ts';
import { EXIT, type ExitCode, ExitError } from './exit-codes.ts';

const USAGE = 'usage: wecom-chain-sync grant-readonly <role>';

/** The one positional argument: a valid role name. */
export function roleArgument(positionals: readonly string[]): string {
  if (positionals.length === 0) throw new ExitError(EXIT.usage, `missing the role name; ${USAGE}`);
  if (positionals.length > 1) {
    throw new ExitError(EXIT.usage, `expected one role name, got ${positionals.length}; ${USAGE}`);
  }
  const role = positionals[0]!;
  const problem = roleNameProblem(role);
  if (problem)
    throw new ExitError(EXIT.usage, `invalid role name ${JSON.stringify(role)}: ${problem}; ${USAGE}`);
  return role;
}

export async function grantCommand(positionals: readonly string[]): Promise<ExitCode> {
  const role = roleArgument(positionals);
  const databaseUrl = parseDatabaseUrl(process.env);
  const pool = createPool(databaseUrl, 1);
  try {
    const client = await pool.connect();
    try {
      const result = await grantReadonly(client, role).catch((err) => {
        if (err instanceof SchemaMissingError) {
          throw new ExitError(
            EXIT.config,
            `DATABASE_URL: ${err.message}; run "wecom-chain-sync migrate" (as the sync's role) first`,
          );
        }
        if (err instanceof GrantRefusedError) throw new ExitError(EXIT.usage, `${err.message}; ${USAGE}`);
        if (err instanceof GrantIncompleteError)
          throw new ExitError(EXIT.config, `DATABASE_URL: ${err.message}`);
        return explainDatabaseError(err);
      });
      const q = quoteIdent(role);
      const out = process.stdout;
      out.write(
        result.created ? `created role ${q} (NOLOGIN)\n` : `role ${q} already exists: kept as it is\n`,
      );
      out.write(
        `granted ${q} USAGE on schema wecom and SELECT on its ${result.relations} tables and views\n`,
      );
      out.write(
        `granted ${q} SELECT on tables and views ${quoteIdent(result.grantor)} creates in wecom from now on\n`,
      );
      out.write(`to let a login read as it: GRANT ${q} TO some_login_user;\n`);
      if (result.otherOwners.length > 0) {
        process.stderr.write(
          `warning: some wecom objects are owned by ${result.otherOwners.map(quoteIdent).join(', ')}: ` +
            `tables they create later are not covered; run this command as the role that runs the migrations\n`,
        );
      }
      if (result.writable.length > 0) {
        const some = result.writable.slice(0, 3).join(', ') + (result.writable.length > 3 ? ', …' : '');
        process.stderr.write(
          `warning: ${q} can also change ${result.writable.length} wecom tables, views or sequences (${some}) through ` +
            `privileges it already had, which this command does not take away; REVOKE them, or use a new role\n`,
        );
      }
      for (const what of result.otherWrites) {
        process.stderr.write(
          `warning: ${q} may also ${what} through privileges it already had, which this command does not take away; REVOKE them, or use a new role\n`,
        );
      }
      return EXIT.ok;
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}
