// One chain's crawl is staged in a temporary table on a connection of its own, then merged into the
// stored tables in a single short transaction: BI readers see the whole chain change at once or not at all,
// and a crawl that fails or is cut short changes nothing.

import {
  type Chain,
  type CorpDetail,
  corpKey,
  type Group,
  type ListedCorp,
  listedCorp,
} from '../wecom/types.ts';
import { encodeCopyRow } from './copy.ts';
import { type Database, inTransaction, type QueryResult, type Session } from './database.ts';
import { assertRunning } from './errors.ts';
import * as q from './merge-sql.ts';
import { changedRows, type RowCounts, TABLES, type TableName, zeroCounts } from './row-counts.ts';
import { FLUSH_WRITE_COUNTERS } from './statistics.ts';

/** A listed corp, and what this crawl learnt of its details. */
export interface StagedCorp {
  corp: ListedCorp;
  /**
   * Fetched in this crawl; null when not asked (the stored ones stand); 'failed' when WeCom refused them
   * for this corp alone: the stored ones stand, and they are due again next run.
   */
  detail: CorpDetail | null | 'failed';
}

/** What the table holds for a joined corp, as far as deciding whether to fetch its details again. */
export interface StoredCorp {
  corpName: string;
  customId: string;
  groupid: number;
  inviteUserid: string | null;
  detailsFetchedAt: Date | null;
  removed: boolean;
}

// Rows are buffered and sent in one COPY per batch: a round trip per page would dominate small pages.
const FLUSH_ROWS = 2_000;

function encode({ corp, detail }: StagedCorp, listing: number, seq: number): string {
  const fetched = detail === 'failed' ? null : detail;
  return encodeCopyRow([
    seq,
    listing,
    corpKey(corp),
    corp.isJoined ? corp.corpid : null,
    corp.isJoined ? null : corp.pendingCorpid,
    corp.corpName,
    corp.customId,
    corp.groupid,
    corp.inviteUserid,
    corp.isJoined,
    fetched?.qualificationStatus ?? null,
    fetched !== null,
    detail === 'failed',
  ]);
}

export class ChainStage {
  readonly #session: Session;
  readonly #scope: [upstreamCorpid: string, chainId: string];
  #buffer: string[] = [];
  #listings = 0;
  #seq = 0;
  #detailsFailed = false;
  #refusedDetails = 0;
  #broken = false;
  // Groups of one chain are crawled concurrently, but a connection runs one statement at a time.
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(session: Session, upstreamCorpid: string, chainId: string) {
    this.#session = session;
    this.#scope = [upstreamCorpid, chainId];
  }

  static async open(db: Database, upstreamCorpid: string, chainId: string): Promise<ChainStage> {
    const session = await db.session();
    try {
      await session.query(q.CREATE_STAGE);
      await session.query('truncate pg_temp.wcs_stage_corps');
    } catch (err) {
      session.release(true);
      throw err;
    }
    return new ChainStage(session, upstreamCorpid, chainId);
  }

  /** The stored state of the given corps of this chain, by corp_key. */
  async lookup(keys: readonly string[]): Promise<Map<string, StoredCorp>> {
    const found = new Map<string, StoredCorp>();
    if (keys.length === 0) return found;
    const { rows } = await this.#run(q.LOOKUP_CORPS, [...this.#scope, keys]);
    for (const r of rows) {
      found.set(r.corp_key, {
        corpName: r.corp_name,
        customId: r.custom_id,
        groupid: r.groupid,
        inviteUserid: r.invite_userid,
        detailsFetchedAt: r.details_fetched_at,
        removed: r.removed,
      });
    }
    return found;
  }

  /**
   * Up to `limit` of the chain's current corps that nothing has staged (the merge would mark them removed),
   * as stored.
   */
  async missing(limit: number): Promise<ListedCorp[]> {
    await this.#flush();
    const { rows } = await this.#transaction(q.MISSING_SETTINGS, () =>
      this.#run(q.MISSING_CORPS, [...this.#scope, limit]),
    );
    return rows.map((r) =>
      listedCorp(
        { corpName: r.corp_name, customId: r.custom_id, groupid: r.groupid, inviteUserid: r.invite_userid },
        r.corpid,
        r.pending_corpid,
      ),
    );
  }

  /**
   * After commit: how many corps it stored without new details, their get_chain_corpinfo having failed for
   * them alone (a refusal that a listing started again superseded is not one).
   */
  get refusedDetails(): number {
    return this.#refusedDetails;
  }

  /** A new id for one listing of a group, to tag what it stages with. */
  newListing(): number {
    return ++this.#listings;
  }

  /**
   * Numbers for `count` corps, in the order WeCom answered: taken as a page comes, they make its records
   * win over those of a page that came before, though its details may come back after (a corp that moved
   * from a group listed earlier to one listed later is stored where the later listing says).
   */
  nextSeq(count: number): number {
    const first = this.#seq + 1;
    this.#seq += count;
    return first;
  }

  /** Stages corps, tagged with the listing that found them (see discard), numbered from `seq`. */
  async add(corps: readonly StagedCorp[], listing = 0, seq = this.nextSeq(corps.length)): Promise<void> {
    for (const [i, c] of corps.entries()) {
      this.#buffer.push(encode(c, listing, seq + i));
      if (c.detail === 'failed') this.#detailsFailed = true;
    }
    if (this.#buffer.length >= FLUSH_ROWS) await this.#flush();
  }

  /** Forgets everything `listing` staged: its group is being listed again from the start. */
  async discard(listing: number): Promise<void> {
    await this.#flush();
    await this.#run(q.DISCARD_LISTING, [listing]);
  }

  /** Merges the staged crawl and the chain's group tree in one transaction; returns the row counts. */
  async commit(chain: Chain, groups: readonly Group[], runId: number): Promise<Record<TableName, RowCounts>> {
    await this.#flush();
    const counts = Object.fromEntries(TABLES.map((t) => [t, zeroCounts()])) as Record<TableName, RowCounts>;
    const scoped = [...this.#scope, runId];
    let refused = 0;
    await this.#transaction(q.MERGE_SETTINGS, async () => {
      const previous = await this.#run(q.LOCK_CHAIN, this.#scope);
      await this.#run(q.UPSERT_CHAIN, [...scoped, chain.chainName]);
      // Read once the chain's row is locked (see RUN_STATUS).
      assertRunning(runId, await this.#run(q.RUN_STATUS, [runId]));
      counts.chains = chainCounts(previous.rows[0], chain.chainName);

      const groupJson = JSON.stringify(
        groups.map((g) => ({
          groupid: g.groupid,
          group_name: g.groupName,
          parentid: g.parentid,
          sort_order: g.order,
        })),
      );
      const mergedGroups = await this.#run(q.MERGE_GROUPS, [...scoped, groupJson]);
      const removedGroups = await this.#run(q.REMOVE_GROUPS, [...scoped, groups.map((g) => g.groupid)]);
      counts.chain_groups = mergeCounts(mergedGroups.rows[0], removedGroups.rowCount);

      const mergedCorps = await this.#run(q.MERGE_CORPS, scoped);
      const removedCorps = await this.#run(q.REMOVE_CORPS, scoped);
      counts.chain_corps = mergeCounts(mergedCorps.rows[0], removedCorps.rowCount);
      if (this.#detailsFailed)
        refused = (await this.#run(q.DETAILS_DUE_AGAIN, this.#scope)).rows[0].refused as number;
      // Only rows the merge changed carry the run's id, so with none there is no version to close or open,
      // and a no-change re-run spares each chain two statements that would each scan its rows for nothing.
      if (changedRows(counts.chain_groups) > 0)
        for (const sql of q.GROUP_HISTORY) await this.#run(sql, scoped);
      if (changedRows(counts.chain_corps) > 0) for (const sql of q.CORP_HISTORY) await this.#run(sql, scoped);
      await this.#run(FLUSH_WRITE_COUNTERS);
    });
    this.#refusedDetails = refused;
    return counts;
  }

  /** Empties the stage and gives the connection back (a broken one is closed instead). */
  async close(): Promise<void> {
    this.#buffer = [];
    if (!this.#broken) await this.#run('truncate pg_temp.wcs_stage_corps').catch(() => {});
    this.#session.release(this.#broken);
  }

  /** `work` in a transaction that `settings` (a statement of set_config(..., true) calls) starts with. */
  #transaction<T>(settings: string, work: () => Promise<T>): Promise<T> {
    // Rolled back, after a failure, though the failed statement marked the session broken (see inTransaction).
    return inTransaction({ query: (text: string) => this.#run(text) }, async () => {
      await this.#run(settings);
      return work();
    });
  }

  async #flush(): Promise<void> {
    const rows = this.#buffer;
    this.#buffer = [];
    await this.#serial(() => this.#session.copyFrom(q.STAGE_COLUMNS, rows));
  }

  // biome-ignore lint/suspicious/noExplicitAny: rows are as loosely typed as the SQL that returns them
  #run(text: string, values?: unknown[]): Promise<QueryResult<any>> {
    return this.#serial(() => this.#session.query(text, values));
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => {
      // After a failed statement the connection may be mid-transaction or gone: never reuse it.
      this.#broken = true;
    });
    return result;
  }
}

function chainCounts(
  previous: { chain_name: string; removed: boolean } | undefined,
  name: string,
): RowCounts {
  const c = zeroCounts();
  if (!previous) c.inserted = 1;
  else if (previous.removed || previous.chain_name !== name) c.updated = 1;
  else c.unchanged = 1;
  return c;
}

function mergeCounts(row: { seen: number; inserted: number; updated: number }, removed: number): RowCounts {
  return {
    inserted: row.inserted,
    updated: row.updated,
    unchanged: row.seen - row.inserted - row.updated,
    removed,
  };
}
