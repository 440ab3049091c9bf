// Which joined corps get a get_chain_corpinfo call: the busiest endpoint by far, so a re-sync asks only
// for corps that are new, changed, or whose details have grown old.

import type { DetailsMode } from '../config.ts';
import type { StoredCorp } from '../db/chain-stage.ts';
import type { ListedCorp } from '../wecom/types.ts';
import { fnv1a } from './fnv.ts';

export interface DetailsPolicy {
  mode: DetailsMode;
  maxAgeMs: number;
}

export function needsDetails(
  corp: ListedCorp,
  stored: StoredCorp | undefined,
  policy: DetailsPolicy,
  now: number,
): boolean {
  // qualification_status is only returned for joined corps.
  if (!corp.isJoined || policy.mode === 'none') return false;
  if (policy.mode === 'all') return true;
  if (!stored || stored.removed || stored.detailsFetchedAt === null) return true;
  if (now - stored.detailsFetchedAt.getTime() >= maxAgeOf(corp.corpid, policy.maxAgeMs)) return true;
  return (
    stored.corpName !== corp.corpName ||
    stored.customId !== corp.customId ||
    stored.groupid !== corp.groupid ||
    stored.inviteUserid !== corp.inviteUserid
  );
}

/**
 * How old `corpid`'s details may grow: between half of `maxAgeMs` and all of it, fixed per corp. A first
 * load fetches every corp's details at once; with one age for all, every one of them would fall due again
 * in the same run a week later, and above WeCom's 150,000 calls an hour that run could never finish (an
 * hourly CronJob would then start over, and fail, every hour). Spread, they fall due over days, a few in
 * each run, and stay spread: each corp keeps its own age.
 */
function maxAgeOf(corpid: string, maxAgeMs: number): number {
  return maxAgeMs * (1 - fnv1a(corpid) / 2 ** 33);
}
