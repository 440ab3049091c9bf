import { describe, expect, it } from 'vitest';
import type { StoredCorp } from '../../src/db/chain-stage.ts';
import { type DetailsPolicy, needsDetails } from '../../src/sync/details.ts';
import type { JoinedCorp, PendingCorp } from '../../src/wecom/types.ts';

const now = Date.parse('2026-06-01T00:00:00Z');
const hour = 3_600_000;
const joined: JoinedCorp = {
  isJoined: true,
  corpid: 'wwa',
  corpName: '美馨粮油',
  customId: 'c1',
  groupid: 2,
  inviteUserid: 'zhangsan',
};
const pending: PendingCorp = { ...joined, isJoined: false, pendingCorpid: 'wpa' } as PendingCorp;
const stored: StoredCorp = {
  corpName: '美馨粮油',
  customId: 'c1',
  groupid: 2,
  inviteUserid: 'zhangsan',
  detailsFetchedAt: new Date(now - hour),
  removed: false,
};
const changed: DetailsPolicy = { mode: 'changed', maxAgeMs: 24 * hour };

describe('needsDetails', () => {
  it('skips an unchanged corp with fresh details', () => {
    expect(needsDetails(joined, stored, changed, now)).toBe(false);
  });
  it('asks for new, restored, never-detailed and stale corps', () => {
    expect(needsDetails(joined, undefined, changed, now)).toBe(true);
    expect(needsDetails(joined, { ...stored, removed: true }, changed, now)).toBe(true);
    expect(needsDetails(joined, { ...stored, detailsFetchedAt: null }, changed, now)).toBe(true);
    expect(
      needsDetails(joined, { ...stored, detailsFetchedAt: new Date(now - 25 * hour) }, changed, now),
    ).toBe(true);
  });
  it('asks again when a listed field changed', () => {
    expect(needsDetails({ ...joined, corpName: '新名' }, stored, changed, now)).toBe(true);
    expect(needsDetails({ ...joined, groupid: 3 }, stored, changed, now)).toBe(true);
    expect(needsDetails({ ...joined, customId: '' }, stored, changed, now)).toBe(true);
  });
  it('never asks for pending corps, which have no qualification status', () => {
    expect(needsDetails(pending, undefined, changed, now)).toBe(false);
    expect(needsDetails(pending, undefined, { mode: 'all', maxAgeMs: 0 }, now)).toBe(false);
  });
  it('follows the all and none modes', () => {
    expect(needsDetails(joined, stored, { mode: 'all', maxAgeMs: 0 }, now)).toBe(true);
    expect(needsDetails(joined, undefined, { mode: 'none', maxAgeMs: 0 }, now)).toBe(false);
  });
  it('spreads when details fall due between half the max age and all of it', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `ww${(i * 7_919).toString(16).padStart(16, '0')}`);
    const fetchedAt = new Date(now - 24 * hour);
    const dueAt = (ageHours: number) =>
      ids.filter((corpid) =>
        needsDetails(
          { ...joined, corpid },
          { ...stored, detailsFetchedAt: new Date(fetchedAt.getTime()) },
          changed,
          fetchedAt.getTime() + ageHours * hour,
        ),
      ).length;
    expect(dueAt(12 - 0.01)).toBe(0);
    expect(dueAt(24)).toBe(ids.length);
    // Roughly uniform in between: each quarter of the range holds about a quarter of the corps.
    const quarters = [15, 18, 21, 24].map(dueAt);
    expect(quarters.map((n, i) => n - (quarters[i - 1] ?? 0))).toEqual(
      Array(4).fill(expect.toSatisfy((n: number) => n > 400 && n < 600)),
    );
  });
});
