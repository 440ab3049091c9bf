// Which listed corps the crawl asks get_chain_corpinfo about, per the policy README.md and docs/schema.md
// document for SYNC_DETAILS: all joined corps, none, or ('changed') those new, changed, returning, never
// asked, or whose details have grown older than their share of SYNC_DETAILS_MAX_AGE_HOURS.
import type { CorpRow, Instant } from './expected-state.ts';
import type { ListedCorp } from './network.ts';

export type DetailsMode = 'all' | 'changed' | 'none';
export const DETAILS_MODES: readonly DetailsMode[] = ['all', 'changed', 'none'];

/** The crawl's clock and the max age; null when the seed never lets details age. */
export interface DetailsClock {
  nowMs: number;
  maxAgeMs: number;
}

/** Whether details fetched at `at` count as old now. */
export type AgeRule = (corpid: string, at: Instant) => boolean;

export function wantsDetails(
  mode: DetailsMode,
  corp: ListedCorp,
  stored: CorpRow | undefined,
  isOld: AgeRule,
): boolean {
  if (corp.corpid === null || mode === 'none') return false;
  if (mode === 'all') return true;
  if (!stored || stored.removed !== null || stored.detailsAt === null) return true;
  if (isOld(corp.corpid, stored.detailsAt)) return true;
  return (
    stored.name !== corp.name ||
    stored.custom !== corp.custom ||
    stored.groupid !== corp.groupid ||
    stored.invite !== corp.invite
  );
}

/**
 * The age rule against resolved instants (database timestamps as text). Each corp's max age lies between
 * half and all of the configured one, so a whole network fetched at once does not age at once; the hash
 * spreading them is the implementation's choice, copied here.
 */
export function ageRule(
  clock: DetailsClock | null,
  resolve: (at: Instant) => string | null | undefined,
): AgeRule {
  return (corpid, at) => {
    if (!clock) return false;
    const text = resolve(at);
    if (!text) throw new Error(`unresolved instant ${at}`);
    const atMs = Date.parse(text.replace(' ', 'T').replace(/\+00$/, 'Z'));
    return clock.nowMs - atMs >= maxAgeOf(corpid, clock.maxAgeMs);
  };
}

function maxAgeOf(corpid: string, maxAgeMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < corpid.length; i++) h = Math.imul(h ^ corpid.charCodeAt(i), 0x01000193);
  return maxAgeMs * (1 - (h >>> 0) / 2 ** 32 / 2);
}
