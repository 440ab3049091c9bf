// One chain's crawl is staged in a temporary table on a connection of its own, then merged into the
// stored tables in a single short transaction: BI readers see the whole chain change at once or not at all,
// and a crawl that fails or is cut short changes nothing. A small chain is held in memory instead for as long
// as it could be unchanged, and merged without a stage when it is (see MEMORY_ROWS).

import { type Chain, type CorpDetail, type Group, type ListedCorp, listedCorp } from '../wecom/types.ts';
import { type Database, inTransaction, type QueryResult, type Session } from './database.ts';
import { assertRunning } from './errors.ts';
import { CORP_HISTORY, GROUP_HISTORY } from './history-sql.ts';
import * as q from './merge-sql.ts';
import { changedRows, type RowCounts, TABLES, type TableName, zeroCounts } from './row-counts.ts';
import { encodeStageRow, listedRecord } from './stage-rows.ts';
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

// Creating the stage table writes to the system catalogs: after a checkpoint (every 5 minutes by default),
// 0.22 MB of WAL for a run of three chains whatever changed; per chain, 1% of the first load of about 5,000
// corps (1.4 KB of WAL each). So a listing of up to that many is held in memory, unstaged, while it could still be
// unchanged (no corp had details fetched or refused, no more corps than the chain has now), and checked
// against the tables in one query: an unchanged chain then writes nothing. A listing of 5,000 corps held takes
// about 1.7 MB (334 bytes a parsed corp, measured); a chain of more is never held.
export const MEMORY_ROWS = 5_000;

/** A listed corp held in memory, with the listing and number that staging it would carry. */
interface HeldCorp {
  corp: ListedCorp;
  listing: number;
  seq: number;
}

/**
 * Where the listing is: held in memory, or staged (the table's creation, and the rows waiting to be COPYed
 * into it). A listing once staged is never held again.
 */
type Listing =
  | { held: HeldCorp[]; staged?: never }
  | { staged: Promise<unknown>; buffer: string[]; held?: never };

export class ChainStage {
  readonly #session: Session;
  readonly #scope: [upstreamCorpid: string, chainId: string];
  #listing: Listing = { held: [] };
  /** How many corps may be held: as many as the chain has now (a longer listing has changed), if few enough. */
  readonly #holdable: number;
  #listings = 0;
  #seq = 0;
  #detailsFailed = false;
  #refusedDetails = 0;
  #broken = false;
  // Groups of one chain are crawled concurrently, but a connection runs one statement at a time.
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(session: Session, upstreamCorpid: string, chainId: string, current: number) {
    this.#session = session;
    this.#scope = [upstreamCorpid, chainId];
    this.#holdable = current > MEMORY_ROWS ? 0 : current;
  }

  static async open(db: Database, upstreamCorpid: string, chainId: string): Promise<ChainStage> {
    const session = await db.session();
    try {
      const { rows } = await session.query(q.OPEN_STAGE, [upstreamCorpid, chainId, MEMORY_ROWS + 1]);
      const stage = new ChainStage(session, upstreamCorpid, chainId, rows[0].current);
      // A role that may not create temporary tables could merge only unchanged chains: every chain fails
      // here instead, with PostgreSQL's own error, not each one that changed once its whole crawl is done.
      if (!rows[0].may_create_temp) await stage.#staged().staged;
      return stage;
    } catch (err) {
      session.release(true);
      throw err;
    }
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
    // Nothing is missing from an unchanged listing (commit checks again, under the chain's lock).
    if (this.#listing.held && (await this.#unchanged(this.#listing.held))) return [];
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
    const { held } = this.#listing;
    if (held && held.length + corps.length <= this.#holdable && corps.every((c) => c.detail === null)) {
      for (const [i, { corp }] of corps.entries()) held.push({ corp, listing, seq: seq + i });
      return;
    }
    // The table's creation is not waited for: the next page is listed meanwhile, and the flush waits.
    const { buffer } = this.#staged();
    for (const [i, c] of corps.entries()) {
      buffer.push(encodeStageRow({ ...c, listing, seq: seq + i }));
      if (c.detail === 'failed') this.#detailsFailed = true;
    }
    if (buffer.length >= FLUSH_ROWS) await this.#flush();
  }

  /** Forgets everything `listing` staged: its group is being listed again from the start. */
  async discard(listing: number): Promise<void> {
    const { held } = this.#listing;
    if (held) {
      this.#listing = { held: held.filter((h) => h.listing !== listing) };
      return;
    }
    await this.#flush();
    await this.#run(q.DISCARD_LISTING, [listing]);
  }

  /** Merges the staged crawl and the chain's group tree in one transaction; returns the row counts. */
  async commit(chain: Chain, groups: readonly Group[], runId: number): Promise<Record<TableName, RowCounts>> {
    // Before the transaction, to keep it short.
    if (this.#listing.staged) await this.#flush();
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

      // Versions close and open only for rows the merge changed (see #mergeCorps).
      if (changedRows(counts.chain_groups) > 0) for (const sql of GROUP_HISTORY) await this.#run(sql, scoped);
      counts.chain_corps = await this.#mergeCorps(scoped);
      if (this.#detailsFailed)
        refused = (await this.#run(q.DETAILS_DUE_AGAIN, this.#scope)).rows[0].refused as number;
      await this.#run(FLUSH_WRITE_COUNTERS);
    });
    this.#refusedDetails = refused;
    return counts;
  }

  /** Empties the stage and gives the connection back (a broken one is closed instead). */
  async close(): Promise<void> {
    const staged = this.#listing.staged !== undefined;
    this.#listing = { held: [] };
    if (staged && !this.#broken) await this.#run(q.TRUNCATE_STAGE).catch(() => {});
    this.#session.release(this.#broken);
  }

  /**
   * In the merge: the chain's corps merged and their versions closed and opened; or, held and unchanged,
   * counted without a stage.
   */
  async #mergeCorps(scoped: unknown[]): Promise<RowCounts> {
    // Checked under the chain's row lock, as the merge itself would compare (see RUN_STATUS).
    const { held } = this.#listing;
    if (held && (await this.#unchanged(held))) return { ...zeroCounts(), unchanged: held.length };
    await this.#flush();
    if (!(await this.#run(q.CHAIN_HAS_CORPS, this.#scope)).rows[0].stored) {
      const first = await this.#run(q.FIRST_CORPS, scoped);
      return { ...zeroCounts(), inserted: first.rows[0].inserted };
    }
    const merged = await this.#run(q.MERGE_CORPS, scoped);
    const removed = await this.#run(q.REMOVE_CORPS, scoped);
    const counts = mergeCounts(merged.rows[0], removed.rowCount);
    // Only rows the merge changed carry the run's id, so with none there is no version to close or open,
    // and a no-change re-run spares each chain two statements that would each scan its rows for nothing.
    if (changedRows(counts) > 0) for (const sql of CORP_HISTORY) await this.#run(sql, scoped);
    return counts;
  }

  /** Whether the held listing is the chain's current corps exactly, as stored: a merge would change nothing. */
  async #unchanged(held: readonly HeldCorp[]): Promise<boolean> {
    const rows = held.map((h) => listedRecord(h.corp));
    // A corp listed twice is left to the merge, which keeps its last record.
    if (new Set(rows.map((r) => r[0])).size < rows.length) return false;
    const { rows: found } = await this.#run(q.UNCHANGED_CORPS, [...this.#scope, JSON.stringify(rows)]);
    return found[0].current === rows.length && found[0].matched === rows.length;
  }

  /** The listing staged: the held one moves to the stage table, created on this connection if it has none. */
  #staged(): { staged: Promise<unknown>; buffer: string[] } {
    const { held } = this.#listing;
    if (!held) return this.#listing;
    const staged = Promise.all([this.#run(q.CREATE_STAGE), this.#run(q.EMPTY_STAGE)]);
    // Thrown to whatever needs the table next, not as an unhandled rejection meanwhile.
    staged.catch(() => {});
    const buffer = held.map((h) => encodeStageRow({ ...h, detail: null }));
    this.#listing = { staged, buffer };
    return this.#listing;
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
    const listing = this.#staged();
    await listing.staged;
    const rows = listing.buffer;
    listing.buffer = [];
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
