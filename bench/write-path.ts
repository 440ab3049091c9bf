// The database half of a sync, without HTTP: the same rows written by the job's write path (COPY into a
// temporary stage, then the chain's merge transaction), by a plain COPY into an empty unindexed table,
// and by one autocommitted INSERT … ON CONFLICT DO UPDATE per row — first load and no-change re-write; and
// the write path once more with every corp renamed, the most a re-run can change, and then with every
// pending corp joined (the link from a pending corp to the joined one is the merge's most involved SQL).
//
// Used by run.ts; also runs on its own:
//   node bench/write-path.ts [--rows 100000] [--upsert-rows 3000] [--repeat 3] [--admin-url URL]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ChainStage, type StagedCorp } from '../src/db/chain-stage.ts';
import { openDatabase } from '../src/db/database.ts';
import type { SimNetwork } from '../src/simulator/index.ts';
import { upsertCorp } from './baseline.ts';
import { ADMIN_URL, type BenchDatabase, createBenchDatabase } from './db.ts';
import { median, settledTableWrites, type TimedWrites, timedWrites, writesDelta } from './measure.ts';
import { writePathSection } from './report.ts';
import { copyOfStoredCorps } from './scenario.ts';
import { CORP_ID, chainRows, generate } from './workload.ts';

export interface Pass extends TimedWrites {
  rows: number;
  rowsPerS: number;
  /** chain_corps rows inserted or updated (pg_stat_user_tables). */
  rowsWritten: number;
}

export interface WritePathRun {
  stageMerge: Pass;
  stageMergeAgain: Pass;
  /** Every corp renamed: each one's version closes and a new one opens. */
  stageMergeRenamed: Pass;
  /** Then every pending corp joined: a pending row removed, a joined one added, its history linked. */
  stageMergeJoined: Pass;
  plainCopy: Pass;
  /** The corps and their versions, every row a first load writes, COPYed into tables with no index. */
  plainCopyAll: Pass;
  /** The same rows COPYed into tables with chain_corps' and chain_corp_history's indexes: this schema's floor. */
  indexedCopy: Pass;
  upsert: Pass;
  upsertAgain: Pass;
}

async function measured(db: BenchDatabase, rows: number, work: () => Promise<void>): Promise<Pass> {
  const before = await settledTableWrites(db.pool, 'wecom', 'chain_corps');
  const timed = await timedWrites(db.pool, work);
  const d = writesDelta(before, await settledTableWrites(db.pool, 'wecom', 'chain_corps'));
  return { rows, ...timed, rowsPerS: rows / timed.s, rowsWritten: d.ins + d.upd };
}

async function newRun(db: BenchDatabase): Promise<number> {
  const { rows } = await db.pool.query(
    'insert into wecom.sync_runs (upstream_corpid) values ($1) returning id',
    [CORP_ID],
  );
  return Number(rows[0].id);
}

const renamed = (c: StagedCorp): StagedCorp => ({
  ...c,
  corp: { ...c.corp, corpName: `${c.corp.corpName} 2` },
});

/** A pending corp as it comes back once joined: same name, group and custom_id, now with a corpid. */
function joined({ corp, detail }: StagedCorp): StagedCorp {
  if (corp.isJoined) return { corp, detail };
  const { pendingCorpid, isJoined: _, ...rest } = corp;
  return { corp: { ...rest, isJoined: true, corpid: `wwj${pendingCorpid}` }, detail };
}

/**
 * Every chain through ChainStage, a page at a time, as the crawler stages it. Only the stage and the merges
 * are timed, as the plain COPY is timed without encoding its rows or making its tables: the crawl's records,
 * the run's row and the job's pool exist before a chain's first page, and closing the pool (which makes the
 * backends publish their table counters) comes after.
 */
async function stageAndMerge(
  db: BenchDatabase,
  network: SimNetwork,
  pageSize: number,
  withDetails: boolean,
  change: (corp: StagedCorp) => StagedCorp = (c) => c,
): Promise<Pass> {
  const runId = await newRun(db);
  const chains = chainRows(network, pageSize, withDetails).map(({ pages, ...rest }) => ({
    ...rest,
    pages: pages.map((page) => page.map(change)),
  }));
  const target = await openDatabase({ driver: 'postgres', url: db.url }, { poolSize: 2 });
  try {
    return await measured(db, network.stats().corps, async () => {
      for (const { chain, groups, pages } of chains) {
        const stage = await ChainStage.open(target, CORP_ID, chain.chainId);
        try {
          for (const page of pages) await stage.add(page);
          await stage.commit(chain, groups, runId);
        } finally {
          await stage.close();
        }
      }
    });
  } finally {
    await target.close();
  }
}

async function upsertRows(db: BenchDatabase, network: SimNetwork, limit: number): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    let n = 0;
    for (const { chain, pages } of chainRows(network, 1000)) {
      for (const { corp, detail } of pages.flat()) {
        if (n++ >= limit) return;
        await upsertCorp(client, CORP_ID, chain.chainId, {
          corpid: corp.isJoined ? corp.corpid : null,
          pendingCorpid: corp.isJoined ? null : corp.pendingCorpid,
          corpName: corp.corpName,
          customId: corp.customId,
          groupid: corp.groupid,
          inviteUserid: corp.inviteUserid,
          qualificationStatus: detail === 'failed' ? null : (detail?.qualificationStatus ?? null),
        });
      }
    }
  } finally {
    await client.end();
  }
}

export async function measureWritePath(
  db: BenchDatabase,
  network: SimNetwork,
  options: { pageSize: number; upsertRows: number },
): Promise<WritePathRun> {
  const total = network.stats().corps;
  const upsertRowsN = Math.min(options.upsertRows, total);

  await db.reset();
  const upsert = await measured(db, upsertRowsN, () => upsertRows(db, network, upsertRowsN));
  await db.pool.query('vacuum analyze');
  const upsertAgain = await measured(db, upsertRowsN, () => upsertRows(db, network, upsertRowsN));

  await db.reset();
  const stageMerge = await stageAndMerge(db, network, options.pageSize, true);
  await db.pool.query('vacuum analyze');
  const stageMergeAgain = await stageAndMerge(db, network, options.pageSize, false);
  const pass = async (copy: { history?: boolean; indexed?: boolean }): Promise<Pass> => {
    const timed = await copyOfStoredCorps(db, copy);
    return { ...timed, rowsPerS: timed.rows / timed.s, rowsWritten: timed.rows };
  };
  // The copies read what the first load stored, so they come before the renames add versions.
  const plainCopy = await pass({});
  const plainCopyAll = await pass({ history: true });
  const indexedCopy = await pass({ history: true, indexed: true });
  await db.pool.query('vacuum analyze');
  const stageMergeRenamed = await stageAndMerge(db, network, options.pageSize, false, renamed);
  await db.pool.query('vacuum analyze');
  const stageMergeJoined = await stageAndMerge(db, network, options.pageSize, false, (c) =>
    joined(renamed(c)),
  );
  return {
    stageMerge,
    stageMergeAgain,
    stageMergeRenamed,
    stageMergeJoined,
    plainCopy,
    plainCopyAll,
    indexedCopy,
    upsert,
    upsertAgain,
  };
}

/** Medians over the repeats, pass by pass. */
export function medianRun(runs: readonly WritePathRun[]): WritePathRun {
  const pass = (k: keyof WritePathRun): Pass => ({
    rows: runs[0]![k].rows,
    s: median(runs.map((r) => r[k].s)),
    rowsPerS: median(runs.map((r) => r[k].rowsPerS)),
    walBytes: median(runs.map((r) => r[k].walBytes)),
    ownWalBytes: runs.some((r) => r[k].ownWalBytes === null)
      ? null
      : median(runs.map((r) => r[k].ownWalBytes!)),
    rowsWritten: median(runs.map((r) => r[k].rowsWritten)),
  });
  return {
    stageMerge: pass('stageMerge'),
    stageMergeAgain: pass('stageMergeAgain'),
    stageMergeRenamed: pass('stageMergeRenamed'),
    stageMergeJoined: pass('stageMergeJoined'),
    plainCopy: pass('plainCopy'),
    plainCopyAll: pass('plainCopyAll'),
    indexedCopy: pass('indexedCopy'),
    upsert: pass('upsert'),
    upsertAgain: pass('upsertAgain'),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      'upsert-rows': { type: 'string', default: '3000' },
      repeat: { type: 'string', default: '3' },
      'page-size': { type: 'string', default: '100' },
      'admin-url': { type: 'string', default: ADMIN_URL },
    },
  });
  const network = generate(Number(values.rows));
  const db = await createBenchDatabase(values['admin-url'], 'wcs_bench_write');
  try {
    const runs: WritePathRun[] = [];
    for (let r = 0; r < Number(values.repeat); r++) {
      runs.push(
        await measureWritePath(db, network, {
          pageSize: Number(values['page-size']),
          upsertRows: Number(values['upsert-rows']),
        }),
      );
    }
    const median = medianRun(runs);
    process.stdout.write(writePathSection({ rows: Number(values.rows), median, runs }).join('\n'));
  } finally {
    await db.drop();
  }
}

if (import.meta.main) await main();
