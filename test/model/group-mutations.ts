// Mutations of the group tree and of the chain list: what WeCom admins do (rename, reorder, move, remove
// a group, remove a chain, bring one back), and two things WeCom never does (a parent the app cannot see,
// a cycle) which the reporting views must survive anyway.
import type { SimChain } from '../../src/simulator/index.ts';
import { groupChoices, nextId, type World } from './network.ts';

/** Returns the line the failure message shows, or undefined when it had nothing to act on. */
export type Mutation = (w: World, chain: SimChain) => string | undefined;

const groupIdsOf = (chain: SimChain) => [...chain.groups.keys()];
const corpsOf = (chain: SimChain) => [...chain.corps.entries()];

export const renameGroup: Mutation = (w, chain) => {
  if (!chain.groups.size) return;
  const groupid = w.rng.pick(groupIdsOf(chain));
  w.net.renameGroup(chain.chainId, groupid, `组${nextId(w)}`);
  return `group-rename ${chain.chainId} ${groupid}`;
};

export const setGroupOrder: Mutation = ({ rng, net }, chain) => {
  if (!chain.groups.size) return;
  const groupid = rng.pick(groupIdsOf(chain));
  const order = rng.int(4);
  net.setGroupOrder(chain.chainId, groupid, order);
  return `group-order ${chain.chainId} ${groupid} ${order}`;
};

export const moveGroup: Mutation = ({ rng, net }, chain) => {
  if (!chain.groups.size) return;
  const groupid = rng.pick(groupIdsOf(chain));
  const parentid = rng.pick(groupChoices(chain));
  net.moveGroup(chain.chainId, groupid, parentid);
  return `group-move ${chain.chainId} ${groupid} -> ${parentid}`;
};

/** WeCom removes the group's subtree and its corps; those corps may come back later. */
export const removeGroup: Mutation = (w, chain) => {
  if (!chain.groups.size) return;
  const groupid = w.rng.pick(groupIdsOf(chain));
  const before = corpsOf(chain);
  w.net.removeGroup(chain.chainId, groupid);
  for (const [key, corp] of before)
    if (!chain.corps.has(key)) w.removedCorps.push({ chainId: chain.chainId, corp: { ...corp } });
  return `group-remove ${chain.chainId} ${groupid}`;
};

/** A new group, or now and then one whose id was used before (a removed group's id coming back). */
export const addGroup: Mutation = (w, chain) => {
  const groupid = w.rng.chance(0.3) ? 11 + w.rng.int(w.ids) : 10 + nextId(w);
  if (chain.groups.has(groupid)) return;
  const parentid = w.rng.pick(groupChoices(chain));
  w.net.addGroup(chain.chainId, { groupid, groupName: `组${groupid}`, parentid, order: w.rng.int(3) });
  return `group-add ${chain.chainId} ${groupid}`;
};

/** Mostly brings a removed chain back (with everything it had); otherwise removes one. */
export function removeOrRestoreChain(w: World, chain: SimChain | undefined): string | undefined {
  if (w.removedChains.size && w.rng.chance(0.7)) {
    const [id, saved] = w.rng.pick([...w.removedChains.entries()]);
    w.removedChains.delete(id);
    w.net.chains.set(id, saved);
    w.net.reindex();
    return `chain-restore ${id}`;
  }
  if (!chain || !w.rng.chance(0.5)) return;
  w.removedChains.set(chain.chainId, chain);
  w.net.removeChain(chain.chainId);
  return `chain-remove ${chain.chainId}`;
}

export const renameChain: Mutation = (w, chain) => {
  const name = `链${nextId(w)}`;
  w.net.renameChain(chain.chainId, name);
  return `chain-rename ${chain.chainId} ${name}`;
};

/** A group whose parent the app cannot see. */
export const hideParent: Mutation = ({ rng }, chain) => {
  if (!chain.groups.size) return;
  const group = chain.groups.get(rng.pick(groupIdsOf(chain)))!;
  group.parentid = 900 + rng.int(3);
  return `hide-parent ${chain.chainId} ${group.groupid} -> ${group.parentid}`;
};

/** A cycle of two groups (WeCom does not produce one; the views must cut it). */
export const makeCycle: Mutation = ({ rng }, chain) => {
  const ids = groupIdsOf(chain);
  if (ids.length < 2 || !rng.chance(0.3)) return;
  const a = rng.pick(ids);
  const b = rng.pick(ids.filter((x) => x !== a));
  chain.groups.get(a)!.parentid = b;
  chain.groups.get(b)!.parentid = a;
  return `cycle ${chain.chainId} ${a}<->${b}`;
};
