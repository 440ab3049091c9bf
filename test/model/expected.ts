// An independent model of what docs/schema.md says the tables hold after each run, written from the doc,
// not from the SQL: chains, groups and corps with their timestamps, both histories, entity links, which
// rows a run rewrites, and stats.rows. The round loop feeds it what each completed chain listed.
import { ageRule, type DetailsClock, type DetailsMode } from './details.ts';
import { mergeCorps } from './expected-corps.ts';
import {
  type ChainState,
  closeVersions,
  emptyTally,
  type Instant,
  mergeInstant,
  type RoundTally,
  removalInstant,
} from './expected-state.ts';
import type { ListedChain } from './network.ts';

export class ExpectedStore {
  readonly chains = new Map<string, ChainState>();
  /** Symbolic instants resolved to the database's timestamps (text), as runs commit them. */
  readonly instants = new Map<Instant, string | null>();
  /** What the current run should write and count. */
  tally: RoundTally = emptyTally();
  #clock: DetailsClock | null = null;

  /** Before each run: a fresh tally, and the clock the crawl will age details by. */
  startRun(clock: DetailsClock | null): void {
    this.tally = emptyTally();
    this.#clock = clock;
  }

  resolve(at: Instant | null): string | null {
    if (at === null) return null;
    return this.instants.has(at) ? this.instants.get(at)! : `UNRESOLVED(${at})`;
  }

  /** A complete chain list marks every chain it leaves out removed, with all its rows, in one transaction. */
  removeUnlisted(listed: Set<string>, run: number): void {
    const at = removalInstant(run);
    for (const [chainId, state] of this.chains) {
      if (state.chain.removed !== null || listed.has(chainId)) continue;
      state.chain.removed = at;
      state.chain.updated = at;
      this.tally.counts.chains.removed++;
      this.tally.writes.add(`chains:${chainId}`);
      for (const group of state.groups.values()) {
        if (group.removed !== null) continue;
        Object.assign(group, { removed: at, updated: at, changedRun: run });
        this.tally.counts.chain_groups.removed++;
        this.tally.writes.add(`groups:${chainId}/${group.groupid}`);
      }
      for (const corp of state.corps.values()) {
        if (corp.removed !== null) continue;
        Object.assign(corp, { removed: at, updated: at, changedRun: run });
        this.tally.counts.chain_corps.removed++;
        this.tally.writes.add(`corps:${chainId}/${corp.key}`);
      }
      closeVersions(state.groupVersions, () => true, at, run);
      closeVersions(state.corpVersions, () => true, at, run);
    }
  }

  /**
   * The merge of one completely crawled chain; `refused`: corps whose details WeCom refused; `kept`: corps
   * in `listing` as stored, whose details were not asked.
   */
  merge(
    listing: ListedChain,
    run: number,
    mode: DetailsMode,
    refused: Set<string>,
    kept: ReadonlySet<string> = new Set(),
  ): void {
    const at = mergeInstant(run, listing.chainId);
    const state = this.#mergeChainRow(listing, run, at);
    this.#mergeGroups(state, listing, run, at);
    const isOld = ageRule(this.#clock, (i) => this.instants.get(i));
    mergeCorps({ state, listing, run, at, mode, refused, kept, isOld, tally: this.tally });
  }

  /** The chain row is always written by its merge (last_synced_at, last_run_id). */
  #mergeChainRow(listing: ListedChain, run: number, at: Instant): ChainState {
    this.tally.writes.add(`chains:${listing.chainId}`);
    const counts = this.tally.counts.chains;
    const state = this.chains.get(listing.chainId);
    if (!state) {
      counts.inserted++;
      const chain = {
        name: listing.name,
        firstSeen: at,
        updated: at,
        removed: null,
        lastSynced: at,
        lastRun: run,
      };
      const fresh = {
        chain,
        groups: new Map(),
        corps: new Map(),
        groupVersions: [],
        corpVersions: [],
        versionsOpened: 0,
      };
      this.chains.set(listing.chainId, fresh);
      return fresh;
    }
    const { chain } = state;
    const changed = chain.removed !== null || chain.name !== listing.name;
    if (changed) counts.updated++;
    else counts.unchanged++;
    Object.assign(chain, {
      name: listing.name,
      removed: null,
      lastSynced: at,
      lastRun: run,
      updated: changed ? at : chain.updated,
    });
    return state;
  }

  #mergeGroups(state: ChainState, listing: ListedChain, run: number, at: Instant): void {
    const counts = this.tally.counts.chain_groups;
    const changed = new Set<number>();
    for (const g of listing.groups) {
      const old = state.groups.get(g.groupid);
      if (!old) {
        counts.inserted++;
        state.groups.set(g.groupid, { ...g, firstSeen: at, updated: at, removed: null, changedRun: run });
      } else if (
        old.removed !== null ||
        old.name !== g.name ||
        old.parentid !== g.parentid ||
        old.order !== g.order
      ) {
        counts.updated++;
        Object.assign(old, { ...g, updated: at, removed: null, changedRun: run });
      } else {
        counts.unchanged++;
        continue;
      }
      changed.add(g.groupid);
    }
    const listed = new Set(listing.groups.map((g) => g.groupid));
    for (const old of state.groups.values()) {
      if (old.removed !== null || listed.has(old.groupid)) continue;
      Object.assign(old, { removed: at, updated: at, changedRun: run });
      counts.removed++;
      changed.add(old.groupid);
    }
    this.#groupVersions(state, changed, listing.chainId, run, at);
  }

  /** Every changed group: its open version closed, and a new one opened unless it was removed. */
  #groupVersions(state: ChainState, changed: Set<number>, chainId: string, run: number, at: Instant): void {
    for (const groupid of changed) {
      this.tally.writes.add(`groups:${chainId}/${groupid}`);
      closeVersions(state.groupVersions, (v) => v.groupid === groupid, at, run);
      const g = state.groups.get(groupid)!;
      if (g.removed !== null) continue;
      const fields = { groupid, name: g.name, parentid: g.parentid, order: g.order };
      state.groupVersions.push({ ...fields, from: at, to: null, opened: run, closed: null });
    }
  }
}
