// One chain's corps through one merge, as docs/schema.md describes it: rows updated only when a listed
// field changed (or details were fetched), removed when the listing no longer has them, a history version
// closed and opened for every change, and a new version's entity_key taken from the corp's own history
// or, for a joined corp with a custom id, linked to the one pending record the link rule allows.
import { type AgeRule, type DetailsMode, wantsDetails } from './details.ts';
import {
  type ChainState,
  type CorpRow,
  type CorpVersion,
  closeVersions,
  type Instant,
  instantOrder,
  type RoundTally,
} from './expected-state.ts';
import type { ListedChain, ListedCorp } from './network.ts';

export interface CorpMerge {
  state: ChainState;
  listing: ListedChain;
  run: number;
  at: Instant;
  mode: DetailsMode;
  /** Keys whose get_chain_corpinfo is refused (merge applies it only where details are asked). */
  refused: Set<string>;
  /** Keys listed as stored, their details not asked: missing corps whose recheck did not fit. */
  kept: ReadonlySet<string>;
  isOld: AgeRule;
  tally: RoundTally;
}

export function mergeCorps(m: CorpMerge): void {
  const changed = new Set<string>();
  for (const corp of m.listing.corps) if (mergeListedCorp(m, corp)) changed.add(corp.key);
  for (const key of removeUnlistedCorps(m)) changed.add(key);
  closeVersions(m.state.corpVersions, (v) => changed.has(v.key), m.at, m.run);
  openVersions(m, changed);
}

function differs(old: CorpRow, corp: ListedCorp, stagedQual: number | null): boolean {
  return (
    old.removed !== null ||
    old.corpid !== corp.corpid ||
    old.pending !== corp.pending ||
    old.name !== corp.name ||
    old.custom !== corp.custom ||
    old.groupid !== corp.groupid ||
    old.invite !== corp.invite ||
    old.joined !== (corp.corpid !== null) ||
    (stagedQual !== null && old.qual !== stagedQual)
  );
}

/** Upserts one listed corp; returns whether it changed (and so needs a new version). */
function mergeListedCorp(m: CorpMerge, corp: ListedCorp): boolean {
  const old = m.state.corps.get(corp.key);
  const kept = m.kept.has(corp.key);
  const asked = !kept && wantsDetails(m.mode, corp, old, m.isOld);
  // A kept corp's recheck did not fit: a joined one's details are refused as any such answer's are.
  const refused = kept ? corp.corpid !== null : asked && m.refused.has(corp.key);
  const fetched = asked && !refused;
  // A status only counts when details were fetched: the listing carries none.
  const stagedQual = fetched ? corp.qual : null;
  const changed = !old || differs(old, corp, stagedQual);
  const counts = m.tally.counts.chain_corps;
  if (!old) counts.inserted++;
  else if (changed) counts.updated++;
  else counts.unchanged++;
  let written = changed || fetched;
  const fields = { ...corp, joined: corp.corpid !== null };
  if (!old) {
    m.state.corps.set(corp.key, {
      ...fields,
      qual: stagedQual,
      detailsAt: fetched ? m.at : null,
      firstSeen: m.at,
      updated: m.at,
      removed: null,
      changedRun: m.run,
    });
  } else if (written) {
    Object.assign(old, {
      ...fields,
      qual: stagedQual ?? old.qual,
      detailsAt: fetched ? m.at : old.detailsAt,
      updated: changed ? m.at : old.updated,
      removed: null,
      changedRun: changed ? m.run : old.changedRun,
    });
  }
  // A refusal clears details_fetched_at, so the corp is asked again next run (a write of its own).
  const row = m.state.corps.get(corp.key)!;
  if (refused && row.detailsAt !== null) {
    row.detailsAt = null;
    written = true;
  }
  if (refused) m.tally.detailFailures++;
  if (written) m.tally.writes.add(`corps:${m.listing.chainId}/${corp.key}`);
  return changed;
}

function removeUnlistedCorps(m: CorpMerge): string[] {
  const listed = new Set(m.listing.corps.map((c) => c.key));
  const removed: string[] = [];
  for (const row of m.state.corps.values()) {
    if (row.removed !== null || listed.has(row.key)) continue;
    row.removed = m.at;
    row.updated = m.at;
    row.changedRun = m.run;
    m.tally.counts.chain_corps.removed++;
    m.tally.writes.add(`corps:${m.listing.chainId}/${row.key}`);
    removed.push(row.key);
  }
  return removed;
}

/** A version for every changed corp that is current, in corp_key order (the merge's insert order). */
function openVersions(m: CorpMerge, changed: Set<string>): void {
  const { state } = m;
  const entityOf = entityRule(m);
  const keys = [...changed].filter((k) => state.corps.get(k)!.removed === null).sort();
  for (const key of keys) {
    const row = state.corps.get(key)!;
    state.corpVersions.push({
      entity: entityOf(row),
      key,
      corpid: row.corpid,
      pending: row.pending,
      name: row.name,
      custom: row.custom,
      groupid: row.groupid,
      invite: row.invite,
      joined: row.joined,
      qual: row.qual,
      from: m.at,
      to: null,
      opened: m.run,
      closed: null,
      seq: ++state.versionsOpened,
    });
  }
}

/**
 * The entity of a new version, from the history as it stood before this merge opened any: the corp's own
 * latest entity, else (a joined corp with a custom id) the entity of the one removed pending record whose
 * latest version has that custom id, when no other current corp has it. A record that disappeared in this
 * run goes before any that disappeared earlier. Anything else would be a guess: the corp is its own entity.
 */
function entityRule(m: CorpMerge): (row: CorpRow) => string {
  const { state, run } = m;
  const latestByEntity = new Map<string, CorpVersion>();
  const latestByKey = new Map<string, CorpVersion>();
  const byTime = (a: CorpVersion, b: CorpVersion) =>
    instantOrder(a.from) - instantOrder(b.from) || a.seq - b.seq;
  for (const v of [...state.corpVersions].sort(byTime)) {
    latestByEntity.set(v.entity, v);
    latestByKey.set(v.key, v);
  }
  const holders = new Map<string, number>();
  for (const c of state.corps.values())
    if (c.removed === null) holders.set(c.custom, (holders.get(c.custom) ?? 0) + 1);
  return (row) => {
    const own = latestByKey.get(row.key)?.entity;
    if (own !== undefined) return own;
    if (!row.joined || row.custom === '' || holders.get(row.custom) !== 1) return row.key;
    const candidates = [...latestByEntity.values()].filter(
      (v) => !v.joined && v.custom === row.custom && state.corps.get(v.key)?.removed !== null,
    );
    const thisRun = candidates.filter((v) => v.closed === run);
    const pool = thisRun.length > 0 ? thisRun : candidates;
    return pool.length === 1 ? pool[0]!.entity : row.key;
  };
}
