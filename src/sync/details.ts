// Which joined corps get a get_chain_corpinfo call: the busiest endpoint by far, so a re-sync asks only
// for corps that are new, changed, or whose details have grown old.

import type { DetailsMode } from '../config.ts';
import type { StoredCorp } from '../db/chain-stage.ts';
import type { ListedCorp } from '../wecom/types.ts';

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
  if (now - stored.detailsFetchedAt.getTime() >= policy.maxAgeMs) return true;
  return (
    stored.corpName !== corp.corpName ||
    stored.customId !== corp.customId ||
    stored.groupid !== corp.groupid ||
    stored.inviteUserid !== corp.inviteUserid
  );
}
