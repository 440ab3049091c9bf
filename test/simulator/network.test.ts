import { describe, expect, it } from 'vitest';
import {
  corpKeyOf,
  type NetworkSpec,
  ROOT_GROUP_ID,
  type SimCorp,
  SimNetwork,
} from '../../src/simulator/index.ts';

const SPEC: NetworkSpec = { seed: 11, chains: 4, groups: 300, corps: 6000, pendingRatio: 0.2, maxDepth: 6 };

function depthOf(groups: Map<number, { parentid: number }>, id: number): number {
  let depth = 0;
  for (let g = groups.get(id); g; g = groups.get(g.parentid)) depth++;
  return depth;
}

/** What the paging index should hold: the chain's corps in a group, straight from the maps. */
function keysInGroup(network: SimNetwork, chainId: string, groupid: number): string[] {
  const out: string[] = [];
  for (const [key, corp] of network.chain(chainId).corps) if (corp.groupid === groupid) out.push(key);
  return out.sort();
}

describe('SimNetwork.generate', () => {
  it('is deterministic: the same spec gives the same network, another seed a different one', () => {
    const a = SimNetwork.generate(SPEC);
    const b = SimNetwork.generate(SPEC);
    expect(a.chains).toEqual(b.chains);
    expect([...a.chains.keys()]).toEqual([...b.chains.keys()]);
    const first = [...a.chains.values()][0]!;
    expect([...first.corps.keys()]).toEqual([...[...b.chains.values()][0]!.corps.keys()]);
    const c = SimNetwork.generate({ ...SPEC, seed: 12 });
    expect([...c.chains.keys()]).not.toEqual([...a.chains.keys()]);
  });

  it('produces exactly the requested counts, with a sane pending share', () => {
    const stats = SimNetwork.generate(SPEC).stats();
    expect(stats).toMatchObject({ chains: 4, groups: 300, corps: 6000 });
    expect(stats.pending / stats.corps).toBeGreaterThan(0.15);
    expect(stats.pending / stats.corps).toBeLessThan(0.25);
  });

  it('builds well-formed trees: root unlisted, parents exist, depth within maxDepth, sibling names unique', () => {
    for (const maxDepth of [1, 3, 6]) {
      const network = SimNetwork.generate({ ...SPEC, maxDepth });
      let deepest = 0;
      for (const chain of network.chains.values()) {
        expect(chain.groups.has(ROOT_GROUP_ID)).toBe(false);
        const siblings = new Set<string>();
        for (const g of chain.groups.values()) {
          expect(g.parentid === ROOT_GROUP_ID || chain.groups.has(g.parentid)).toBe(true);
          deepest = Math.max(deepest, depthOf(chain.groups, g.groupid));
          const key = `${g.parentid}/${g.groupName}`;
          expect(siblings.has(key)).toBe(false);
          siblings.add(key);
          expect(Number.isInteger(g.order) && g.order >= 0 && g.order < 2 ** 32).toBe(true);
        }
      }
      expect(deepest).toBeLessThanOrEqual(maxDepth);
      expect(deepest).toBe(maxDepth); // 300 groups always reach the cap
    }
  });

  it('generates realistic ids and fields, including the awkward cases', () => {
    const network = SimNetwork.generate(SPEC);
    const corps: SimCorp[] = [...network.chains.values()].flatMap((c) => [...c.corps.values()]);
    const orders = [...network.chains.values()].flatMap((c) => [...c.groups.values()].map((g) => g.order));
    expect(Math.max(...orders)).toBeGreaterThan(2 ** 31);
    for (const corp of corps) {
      expect((corp.corpid === null) !== (corp.pendingCorpid === null)).toBe(true);
      if (corp.corpid !== null) expect(corp.corpid).toMatch(/^ww[0-9a-f]{16}$/);
      else expect(corp.pendingCorpid).toMatch(/^wp[0-9a-f]{16}$/);
      expect(corp.corpName).toMatch(/[\u4e00-\u9fff]/);
      expect(Buffer.byteLength(corp.customId)).toBeLessThanOrEqual(64);
      expect(corp.inviteUserid).toMatch(/^[A-Za-z][A-Za-z0-9._]*$/);
      expect([1, 2, 3]).toContain(corp.qualificationStatus);
    }
    const emptyCustom = corps.filter((c) => c.customId === '').length;
    expect(emptyCustom).toBeGreaterThan(0);
    expect(emptyCustom).toBeLessThan(corps.length / 4);
    expect(corps.filter((c) => c.groupid === ROOT_GROUP_ID).length).toBeGreaterThan(0);
    // The same corp (same corpid) may belong to several chains; keys stay unique within a chain.
    const seen = new Map<string, number>();
    for (const c of corps) if (c.corpid) seen.set(c.corpid, (seen.get(c.corpid) ?? 0) + 1);
    expect([...seen.values()].some((n) => n > 1)).toBe(true);
  });

  it('rejects impossible specs', () => {
    expect(() => SimNetwork.generate({ ...SPEC, maxDepth: 7 })).toThrow(RangeError);
    expect(() => SimNetwork.generate({ ...SPEC, pendingRatio: 1.5 })).toThrow(RangeError);
    expect(() => SimNetwork.generate({ ...SPEC, corps: -1 })).toThrow(RangeError);
    expect(() => SimNetwork.generate({ ...SPEC, chains: 0 })).toThrow(RangeError);
  });
});

describe('SimNetwork mutations', () => {
  const small = (): SimNetwork =>
    SimNetwork.generate({ seed: 3, chains: 2, groups: 30, corps: 400, pendingRatio: 0.3, maxDepth: 4 });

  it('move, join, add and remove keep the paging index in step with the maps', () => {
    const network = small();
    const chain = [...network.chains.values()][0]!;
    const groupids = [ROOT_GROUP_ID, ...chain.groups.keys()];
    const corps = [...chain.corps.entries()];
    const pending = corps.find(([, c]) => c.pendingCorpid !== null)!;
    const joined = corps.find(([, c]) => c.corpid !== null)!;
    const target = groupids[3]!;

    network.moveCorp(chain.chainId, joined[0], target);
    const newKey = network.joinCorp(chain.chainId, pending[0], 'wwjoinedjustnow01');
    expect(newKey).toBe('wwjoinedjustnow01');
    expect(chain.corps.has(pending[0])).toBe(false);
    expect(chain.corps.get(newKey)).toMatchObject({
      corpName: pending[1].corpName,
      groupid: pending[1].groupid,
    });
    const added = network.addCorp(chain.chainId, {
      ...joined[1],
      corpid: 'wwadded0000000001',
      groupid: target,
    });
    network.removeCorp(chain.chainId, corps[5]![0]);

    for (const g of groupids) {
      expect(network.groupCorpKeys(chain.chainId, g, true).sort()).toEqual(
        keysInGroup(network, chain.chainId, g),
      );
    }
    expect(network.groupCorpKeys(chain.chainId, target, false)).toContain(added);
    // Joined corps are listed before pending ones.
    const listed = network.groupCorpKeys(chain.chainId, pending[1].groupid, true);
    const firstPending = listed.findIndex((k) => k.startsWith('pending:'));
    expect(listed.slice(firstPending).every((k) => k.startsWith('pending:'))).toBe(true);
  });

  it('removeGroup takes the subgroups and their corps with it', () => {
    const network = small();
    const chain = [...network.chains.values()][0]!;
    const parent = [...chain.groups.values()].find((g) =>
      [...chain.groups.values()].some((c) => c.parentid === g.groupid),
    )!;
    const doomed = new Set([parent.groupid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const g of chain.groups.values()) {
        if (doomed.has(g.parentid) && !doomed.has(g.groupid)) {
          doomed.add(g.groupid);
          grew = true;
        }
      }
    }
    const before = chain.corps.size;
    const inDoomed = [...chain.corps.values()].filter((c) => doomed.has(c.groupid)).length;
    network.removeGroup(chain.chainId, parent.groupid);
    for (const id of doomed) expect(chain.groups.has(id)).toBe(false);
    expect(chain.corps.size).toBe(before - inDoomed);
    expect([...chain.corps.values()].some((c) => doomed.has(c.groupid))).toBe(false);
  });

  it('changes names, orders, qualification and chains', () => {
    const network = small();
    const chain = [...network.chains.values()][0]!;
    const key = [...chain.corps.keys()][0]!;
    const group = [...chain.groups.values()][0]!;
    network.renameCorp(chain.chainId, key, '新名字有限公司');
    network.setQualification(chain.chainId, key, 3);
    network.setCustomId(chain.chainId, key, '');
    network.renameGroup(chain.chainId, group.groupid, '新分组');
    network.setGroupOrder(chain.chainId, group.groupid, 2 ** 32 - 1);
    expect(chain.corps.get(key)).toMatchObject({
      corpName: '新名字有限公司',
      qualificationStatus: 3,
      customId: '',
    });
    expect(chain.groups.get(group.groupid)).toMatchObject({ groupName: '新分组', order: 2 ** 32 - 1 });
    network.renameChain(chain.chainId, '改名的上下游');
    expect(chain.chainName).toBe('改名的上下游');
    const added = network.addChain('Chnew', '新上下游');
    network.addGroup('Chnew', { groupid: 2, groupName: '一级经销商', parentid: 1, order: 0 });
    network.addGroup('Chnew', { groupid: 3, groupName: '华东', parentid: 2, order: 0 });
    network.moveGroup('Chnew', 3, 1);
    expect(added.groups.get(3)?.parentid).toBe(1);
    expect(() => network.moveGroup('Chnew', 2, 2)).toThrow();
    network.removeChain(chain.chainId);
    expect(network.chains.has(chain.chainId)).toBe(false);
  });

  it('throws on unknown ids and on invalid records', () => {
    const network = small();
    const chain = [...network.chains.values()][0]!;
    const joinedKey = [...chain.corps.entries()].find(([, c]) => c.corpid !== null)![0];
    expect(() => network.renameCorp('Chnope', joinedKey, 'x')).toThrow(/unknown chain/);
    expect(() => network.renameCorp(chain.chainId, 'wwnope', 'x')).toThrow(/unknown corp/);
    expect(() => network.moveCorp(chain.chainId, joinedKey, 99_999)).toThrow(/unknown group/);
    expect(() => network.removeGroup(chain.chainId, 99_999)).toThrow(/unknown group/);
    expect(() => network.joinCorp(chain.chainId, joinedKey, 'wwx')).toThrow(/already joined/);
    expect(() => network.setQualification(chain.chainId, joinedKey, 4 as 1)).toThrow(RangeError);
    const corp = chain.corps.get(joinedKey)!;
    expect(() => network.addCorp(chain.chainId, corp)).toThrow(/already exists/);
    expect(() => network.addCorp(chain.chainId, { ...corp, pendingCorpid: 'wpboth' })).toThrow(/exactly one/);
    expect(() => network.removeChain('Chnope')).toThrow(/unknown chain/);
    expect(corpKeyOf({ corpid: null, pendingCorpid: 'wp1' })).toBe('pending:wp1');
  });
});
