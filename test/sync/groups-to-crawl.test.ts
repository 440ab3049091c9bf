import { describe, expect, it } from 'vitest';
import { groupsToCrawl } from '../../src/sync/crawl-chain.ts';
import type { Group } from '../../src/wecom/types.ts';

const group = (groupid: number, groupName = `g${groupid}`): Group => ({
  groupid,
  groupName,
  parentid: 1,
  order: 0,
});

describe('groupsToCrawl', () => {
  it('lists the root by leaving the id out, or by its id when the tree lists it, and stores it never', () => {
    expect(groupsToCrawl([group(2)]).groupIds).toEqual([null, 2]);
    const { listed, groupIds } = groupsToCrawl([group(1), group(3), group(3, 'again')]);
    expect(groupIds).toEqual([1, 3]);
    expect([...listed.values()]).toEqual([group(3, 'again')]);
  });

  it('takes a chain of 200,000 groups (spread as arguments, their ids overflowed the stack)', () => {
    const tree = Array.from({ length: 200_000 }, (_, i) => group(i + 2));
    const { listed, groupIds } = groupsToCrawl(tree);
    expect(groupIds).toHaveLength(200_001);
    expect(groupIds.at(-1)).toBe(200_001);
    expect(listed.size).toBe(200_000);
  });
});
