// What changes in WeCom between two runs, and during one: corps renamed, moved, removed and brought back,
// pending corps joining (at once, or across two runs), custom ids changed or shared, statuses changed or
// odd, one corp in two chains; the group and chain changes are in group-mutations.ts.
import { corpKeyOf, type SimChain } from '../../src/simulator/index.ts';
import {
  addGroup,
  hideParent,
  type Mutation,
  makeCycle,
  moveGroup,
  removeGroup,
  removeOrRestoreChain,
  renameChain,
  renameGroup,
  setGroupOrder,
} from './group-mutations.ts';
import { CUSTOM_IDS, groupChoices, newCorp, nextId, randomName, type World } from './network.ts';

const corpsOf = (chain: SimChain) => [...chain.corps.entries()];

const renameCorp: Mutation = (w, chain) => {
  if (!chain.corps.size) return;
  const [key] = w.rng.pick(corpsOf(chain));
  const name = randomName(w, nextId(w));
  w.net.renameCorp(chain.chainId, key, name);
  return `rename ${chain.chainId} ${key} ${name}`;
};

const moveCorp: Mutation = ({ rng, net }, chain) => {
  if (!chain.corps.size) return;
  const [key] = rng.pick(corpsOf(chain));
  const groupid = rng.pick(groupChoices(chain));
  net.moveCorp(chain.chainId, key, groupid);
  return `move ${chain.chainId} ${key} -> ${groupid}`;
};

const removeCorp: Mutation = (w, chain) => {
  if (!chain.corps.size) return;
  const [key, corp] = w.rng.pick(corpsOf(chain));
  w.net.removeCorp(chain.chainId, key);
  w.removedCorps.push({ chainId: chain.chainId, corp: { ...corp } });
  return `remove ${chain.chainId} ${key}`;
};

/** A removed corp comes back (to the root if its group went), sometimes renamed. */
const readdCorp: Mutation = (w) => {
  if (!w.removedCorps.length) return;
  const index = w.rng.int(w.removedCorps.length);
  const { chainId, corp: saved } = w.removedCorps[index]!;
  const target = w.net.chains.get(chainId);
  const key = corpKeyOf(saved);
  if (!target || target.corps.has(key) || w.joinedPending.has(`${chainId}/${key}`)) return;
  w.removedCorps.splice(index, 1);
  const corp = { ...saved };
  if (!w.net.hasGroup(target, corp.groupid)) corp.groupid = 1;
  if (w.rng.chance(0.3)) corp.corpName = `${corp.corpName}'`;
  w.net.addCorp(chainId, corp);
  return `re-add ${chainId} ${key}`;
};

const addCorp: Mutation = (w, chain) => {
  const corp = newCorp(w, chain, w.rng.chance(0.5));
  w.net.addCorp(chain.chainId, corp);
  return `add ${chain.chainId} ${corpKeyOf(corp)} custom=${corp.customId} g=${corp.groupid}`;
};

/** A pending corp joins, in this run or (its joined record appearing next round) across two. */
const joinCorp: Mutation = (w, chain) => {
  const pendings = corpsOf(chain).filter(([, c]) => c.corpid === null);
  if (!pendings.length) return;
  const [key, corp] = w.rng.pick(pendings);
  const corpid = `wj${nextId(w)}`;
  const cid = chain.chainId;
  w.joinedPending.add(`${cid}/${key}`);
  if (w.rng.chance(0.3)) {
    w.net.removeCorp(cid, key);
    w.delayedJoins.push({ chainId: cid, corp: { ...corp, corpid, pendingCorpid: null } });
    return `join-delayed ${cid} ${key} -> ${corpid} custom=${corp.customId}`;
  }
  w.net.joinCorp(cid, key, corpid);
  if (w.rng.chance(0.3)) w.net.renameCorp(cid, corpid, `${corp.corpName}*`);
  return `join ${cid} ${key} -> ${corpid} custom=${corp.customId}`;
};

const setCustomId: Mutation = ({ rng, net }, chain) => {
  if (!chain.corps.size) return;
  const [key] = rng.pick(corpsOf(chain));
  const custom = rng.pick(CUSTOM_IDS);
  net.setCustomId(chain.chainId, key, custom);
  return `custom ${chain.chainId} ${key} = ${custom}`;
};

const setQualification: Mutation = ({ rng, net }, chain) => {
  if (!chain.corps.size) return;
  const [key] = rng.pick(corpsOf(chain));
  const status = (1 + rng.int(3)) as 1 | 2 | 3;
  net.setQualification(chain.chainId, key, status);
  return `qual ${chain.chainId} ${key} = ${status}`;
};

const setInvitee: Mutation = ({ rng }, chain) => {
  if (!chain.corps.size) return;
  const [key, corp] = rng.pick(corpsOf(chain));
  corp.inviteUserid = `u${rng.int(3)}`;
  return `invite ${chain.chainId} ${key} ${corp.inviteUserid}`;
};

/** Two corps with one custom id: no link may be guessed between them. */
const duplicateCustomId: Mutation = ({ rng, net }, chain) => {
  if (chain.corps.size < 2) return;
  const [, source] = rng.pick(corpsOf(chain));
  const [key] = rng.pick(corpsOf(chain));
  net.setCustomId(chain.chainId, key, source.customId);
  return `dup-custom ${chain.chainId} ${key} = ${source.customId}`;
};

/** A pending corp with a non-empty custom id, so that later joins meet ambiguous candidates. */
const addPendingWithCustomId: Mutation = (w, chain) => {
  const custom = w.rng.pick(CUSTOM_IDS.slice(1));
  const corp = { ...newCorp(w, chain, true), customId: custom };
  w.net.addCorp(chain.chainId, corp);
  return `add-pending-dup ${chain.chainId} ${corpKeyOf(corp)} custom=${custom}`;
};

/** Details without a status, or with one outside 1..3. */
const oddQualification: Mutation = ({ rng }, chain) => {
  if (!chain.corps.size) return;
  const [key, corp] = rng.pick(corpsOf(chain));
  const status = rng.pick([undefined, 0, 7]);
  (corp as { qualificationStatus: unknown }).qualificationStatus = status;
  return `odd-qual ${chain.chainId} ${key} ${status}`;
};

/** The same joined corp in two chains. */
const crossChain: Mutation = ({ rng, net }, chain) => {
  const others = [...net.chains.values()].filter((c) => c !== chain);
  if (!others.length) return;
  const other = rng.pick(others);
  const joined = [...other.corps.values()].filter((c) => c.corpid !== null && !chain.corps.has(c.corpid));
  if (!joined.length) return;
  const corp = { ...rng.pick(joined), groupid: rng.pick(groupChoices(chain)) };
  net.addCorp(chain.chainId, corp);
  return `cross-chain ${chain.chainId} ${corp.corpid} (also in ${other.chainId})`;
};

// Drawn uniformly: moves and joins are listed twice, as they are the commonest changes.
const ALL: readonly Mutation[] = [
  renameCorp,
  moveCorp,
  moveCorp,
  removeCorp,
  readdCorp,
  addCorp,
  joinCorp,
  joinCorp,
  setCustomId,
  setQualification,
  renameGroup,
  setGroupOrder,
  moveGroup,
  removeGroup,
  addGroup,
  removeOrRestoreChain,
  renameChain,
  setInvitee,
  duplicateCustomId,
  addPendingWithCustomId,
  hideParent,
  oddQualification,
  makeCycle,
  crossChain,
];

// The join-heavy mix (60% of mutations): what decides entity links.
const LINKING: readonly Mutation[] = [
  removeCorp,
  readdCorp,
  addCorp,
  joinCorp,
  joinCorp,
  setCustomId,
  duplicateCustomId,
  addPendingWithCustomId,
  removeOrRestoreChain,
];

/** The joins delayed last round appear now (in the root if their group went meanwhile). */
function applyDelayedJoins(w: World): void {
  for (const { chainId, corp } of w.delayedJoins.splice(0)) {
    const chain = w.net.chains.get(chainId);
    if (!chain || chain.corps.has(corp.corpid!)) continue;
    if (!w.net.hasGroup(chain, corp.groupid)) corp.groupid = 1;
    w.net.addCorp(chainId, corp);
    w.log.push(`delayed-join-appears ${chainId} ${corp.corpid} custom=${corp.customId}`);
  }
}

/** Between two runs: 1..size.mutations random changes, logged in w.log. */
export function mutateBetweenRuns(w: World, joinHeavy: boolean): void {
  applyDelayedJoins(w);
  const count = 1 + w.rng.int(w.size.mutations);
  for (let i = 0; i < count; i++) {
    const mutation = joinHeavy && w.rng.chance(0.6) ? w.rng.pick(LINKING) : w.rng.pick(ALL);
    const chains = [...w.net.chains.values()];
    const chain = chains.length ? w.rng.pick(chains) : undefined;
    try {
      // With no chain left, only bringing one back can happen.
      const line = chain
        ? mutation(w, chain)
        : mutation === removeOrRestoreChain
          ? removeOrRestoreChain(w, undefined)
          : undefined;
      if (line) w.log.push(line);
    } catch (err) {
      // The simulator refuses what WeCom would (too deep a tree, a group moved into itself).
      w.log.push(`(mutation refused: ${(err as Error).message})`);
    }
  }
}

/**
 * During a crawl: a corp moves, goes, or joins while its chain is being listed. The stored result may
 * then be what the network held before or after (see reconcile.ts).
 */
export function mutateMidCrawl(w: World): string | undefined {
  const chains = [...w.net.chains.values()].filter((c) => c.corps.size > 0);
  if (!chains.length) return;
  const chain = w.rng.pick(chains);
  const cid = chain.chainId;
  const [key, corp] = w.rng.pick(corpsOf(chain));
  const kind = w.rng.int(4);
  if (kind <= 1) {
    const from = corp.groupid;
    const targets = groupChoices(chain).filter((g) => g !== from);
    if (!targets.length) return;
    const groupid = w.rng.pick(targets);
    w.net.moveCorp(cid, key, groupid);
    return `move ${cid}/${key} ${from}->${groupid}`;
  }
  if (kind === 2) {
    w.net.removeCorp(cid, key);
    w.removedCorps.push({ chainId: cid, corp: { ...corp } });
    return `remove ${cid}/${key}`;
  }
  if (corp.corpid !== null) return;
  const corpid = `wj${nextId(w)}`;
  w.joinedPending.add(`${cid}/${key}`);
  w.net.joinCorp(cid, key, corpid);
  return `join ${cid}/${key}->${corpid}`;
}
