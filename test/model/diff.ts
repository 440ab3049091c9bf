// How expected and stored rows are compared: as JSON, so every field (timestamps as text included) counts,
// and reported as the rows one side has and the other lacks, which names the difference directly.
import type { Queryable } from '../../src/db/database.ts';

export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

// biome-ignore lint/suspicious/noExplicitAny: rows are as loosely typed as the SQL that returns them
export async function rowsOf(db: Queryable, sql: string, params: unknown[] = []): Promise<any[]> {
  return (await db.query(sql, params)).rows;
}

/** Appends to `problems` each expected row not stored, each stored row not expected, and a count mismatch. */
export function diffRows(name: string, expected: unknown[], stored: unknown[], problems: string[]): void {
  const exp = expected.map((x) => JSON.stringify(x));
  const got = stored.map((x) => JSON.stringify(x));
  const gotSet = new Set(got);
  const expSet = new Set(exp);
  for (const x of exp) if (!gotSet.has(x)) problems.push(`${name}: missing ${x}`);
  for (const x of got) if (!expSet.has(x)) problems.push(`${name}: unexpected ${x}`);
  if (exp.length !== got.length) problems.push(`${name}: ${got.length} rows, expected ${exp.length}`);
}
