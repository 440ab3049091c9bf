// Which rows a run physically rewrote, from their xmin: a run must rewrite exactly the rows it changes
// (docs/schema.md: unchanged rows are left untouched, no UPDATE, no WAL), must never touch another
// upstream's rows, and must write a history version only to open or close it.
import type { Queryable } from '../../src/db/database.ts';
import { rowsOf } from './diff.ts';

/** xmin per row, keyed like the model's writes ('chains:c', 'groups:c/g', 'corps:c/k'); other keys for
 * another upstream's rows ('<upstream>!chains:c', 'hist:…') and for history versions ('uphist:id'). */
export type RowVersions = Map<string, string>;

export async function rowVersions(db: Queryable, upstream: string): Promise<RowVersions> {
  const theirs = `case when upstream_corpid = $1 then '' else upstream_corpid || '!' end`;
  const rows = await rowsOf(
    db,
    `select ${theirs} || 'chains:' || chain_id as k, xmin::text as v from wecom.chains
     union all select ${theirs} || 'groups:' || chain_id || '/' || groupid, xmin::text from wecom.chain_groups
     union all select ${theirs} || 'corps:' || chain_id || '/' || corp_key, xmin::text from wecom.chain_corps
     union all select 'hist:' || upstream_corpid || id, xmin::text from wecom.chain_corp_history
       where upstream_corpid <> $1
     union all select 'uphist:' || id, xmin::text from wecom.chain_corp_history where upstream_corpid = $1
     union all select 'upghist:' || id, xmin::text from wecom.chain_group_history where upstream_corpid = $1
     union all select 'ghist:' || upstream_corpid || id, xmin::text from wecom.chain_group_history
       where upstream_corpid <> $1`,
    [upstream],
  );
  return new Map(rows.map((r) => [r.k, r.v]));
}

/** `expected`: the rows of the three tables the model says the run writes. */
export async function checkWrites(
  db: Queryable,
  expected: Set<string>,
  run: { upstream: string; runId: number; before: RowVersions },
): Promise<string[]> {
  const problems: string[] = [];
  const after = await rowVersions(db, run.upstream);
  const written = new Set<string>();
  for (const [k, v] of after) if (run.before.get(k) !== v) written.add(k);
  const history = [
    ['chain_corp_history', 'uphist:'],
    ['chain_group_history', 'upghist:'],
  ] as const;
  for (const [table, prefix] of history) {
    const versions = await rowsOf(
      db,
      `select id, opened_run_id o, closed_run_id c from wecom.${table} where upstream_corpid = $1`,
      [run.upstream],
    );
    for (const r of versions) {
      const touched = written.delete(prefix + r.id);
      if (touched !== (r.o === run.runId || r.c === run.runId))
        problems.push(
          `xmin: ${table} id ${r.id} (opened ${r.o}, closed ${r.c}) ${touched ? 'rewritten' : 'untouched'} in run ${run.runId}`,
        );
    }
  }
  for (const k of written)
    if (!expected.has(k)) problems.push(`xmin: ${k} rewritten, model expected it untouched`);
  for (const k of expected)
    if (!written.has(k)) problems.push(`xmin: ${k} expected rewritten, kept its xmin`);
  return problems;
}
