// The simulated upstream company's network, and the mutations tests use to make it change between
// sync runs. Mutate through these methods (or call reindex() after editing the maps by hand): they
// keep the per-group paging index in step with `chains`.
import { CorpIndex, type IndexPage, type ListPosition } from './corp-index.ts';
import { generateChains } from './generate.ts';
import {
  corpKeyOf,
  isPending,
  MAX_DEPTH,
  type NetworkSpec,
  PENDING_PREFIX,
  type QualificationStatus,
  ROOT_GROUP_ID,
  type SimChain,
  type SimCorp,
  type SimGroup,
} from './model.ts';

export interface NetworkStats {
  chains: number;
  groups: number;
  corps: number;
  pending: number;
}

export class SimNetwork {
  readonly chains: Map<string, SimChain>;
  readonly #index = new CorpIndex();

  constructor(chains: Map<string, SimChain> = new Map()) {
    this.chains = chains;
    this.reindex();
  }

  /** Same spec ⇒ identical network (ids, names, order of every map). */
  static generate(spec: NetworkSpec): SimNetwork {
    return new SimNetwork(generateChains(spec));
  }

  /** Rebuilds the paging index from `chains`: O(corps). Only needed after editing the maps directly. */
  reindex(): void {
    this.#index.clear();
    for (const chain of this.chains.values()) {
      for (const [key, corp] of chain.corps)
        this.#index.add(chain.chainId, corp.groupid, key, isPending(corp));
    }
  }

  stats(): NetworkStats {
    const s: NetworkStats = { chains: this.chains.size, groups: 0, corps: 0, pending: 0 };
    for (const chain of this.chains.values()) {
      s.groups += chain.groups.size;
      s.corps += chain.corps.size;
      for (const corp of chain.corps.values()) if (isPending(corp)) s.pending++;
    }
    return s;
  }

  // --- reads used by the server --------------------------------------------------------------

  hasGroup(chain: SimChain, groupid: number): boolean {
    return groupid === ROOT_GROUP_ID || chain.groups.has(groupid);
  }

  groupCorpKeys(chainId: string, groupid: number, includePending: boolean): string[] {
    return this.#index.all(chainId, groupid, includePending);
  }

  groupCorpPage(
    chainId: string,
    groupid: number,
    includePending: boolean,
    from: ListPosition,
    limit: number,
  ): IndexPage {
    return this.#index.page(chainId, groupid, includePending, from, limit);
  }

  // --- chains --------------------------------------------------------------------------------

  addChain(chainId: string, chainName: string): SimChain {
    if (this.chains.has(chainId)) throw new Error(`chain ${chainId} already exists`);
    const chain: SimChain = { chainId, chainName, groups: new Map(), corps: new Map() };
    this.chains.set(chainId, chain);
    return chain;
  }

  removeChain(chainId: string): void {
    this.chain(chainId);
    this.chains.delete(chainId);
    this.#index.dropChain(chainId);
  }

  renameChain(chainId: string, name: string): void {
    this.chain(chainId).chainName = name;
  }

  // --- groups --------------------------------------------------------------------------------

  addGroup(chainId: string, group: SimGroup): void {
    const chain = this.chain(chainId);
    if (group.groupid === ROOT_GROUP_ID || chain.groups.has(group.groupid)) {
      throw new Error(`group ${group.groupid} already exists in chain ${chainId}`);
    }
    this.requireGroup(chain, group.parentid);
    if (this.depthOf(chain, group.parentid) + 1 > MAX_DEPTH)
      throw new Error(`groups nest at most ${MAX_DEPTH} deep`);
    chain.groups.set(group.groupid, { ...group });
  }

  renameGroup(chainId: string, groupid: number, name: string): void {
    this.group(chainId, groupid).groupName = name;
  }

  setGroupOrder(chainId: string, groupid: number, order: number): void {
    if (!Number.isInteger(order) || order < 0 || order >= 2 ** 32)
      throw new RangeError('order must be in [0, 2^32)');
    this.group(chainId, groupid).order = order;
  }

  /** Re-parents a group (and so its whole subtree). */
  moveGroup(chainId: string, groupid: number, newParentid: number): void {
    const chain = this.chain(chainId);
    const group = this.group(chainId, groupid);
    this.requireGroup(chain, newParentid);
    const moved = this.subtree(chain, groupid);
    if (moved.has(newParentid)) throw new Error(`group ${newParentid} is inside group ${groupid}`);
    let height = 0;
    for (const id of moved) height = Math.max(height, this.depthOf(chain, id) - this.depthOf(chain, groupid));
    if (this.depthOf(chain, newParentid) + 1 + height > MAX_DEPTH) {
      throw new Error(`groups nest at most ${MAX_DEPTH} deep`);
    }
    group.parentid = newParentid;
  }

  /** Removes the group, its subgroups and every corp in them, as WeCom does. */
  removeGroup(chainId: string, groupid: number): void {
    const chain = this.chain(chainId);
    this.group(chainId, groupid);
    const doomed = this.subtree(chain, groupid);
    for (const id of doomed) {
      for (const key of this.#index.all(chainId, id, true)) chain.corps.delete(key);
      chain.groups.delete(id);
      this.#index.dropGroup(chainId, id);
    }
  }

  // --- corps ---------------------------------------------------------------------------------

  /** Adds a copy of `corp`; returns its key. */
  addCorp(chainId: string, corp: SimCorp): string {
    const chain = this.chain(chainId);
    if ((corp.corpid === null) === (corp.pendingCorpid === null)) {
      throw new Error('exactly one of corpid and pendingCorpid must be set');
    }
    const key = corpKeyOf(corp);
    if (chain.corps.has(key)) throw new Error(`corp ${key} already exists in chain ${chainId}`);
    this.requireGroup(chain, corp.groupid);
    chain.corps.set(key, { ...corp });
    this.#index.add(chainId, corp.groupid, key, isPending(corp));
    return key;
  }

  removeCorp(chainId: string, key: string): void {
    const chain = this.chain(chainId);
    const corp = this.corp(chainId, key);
    chain.corps.delete(key);
    this.#index.remove(chainId, corp.groupid, key, isPending(corp));
  }

  renameCorp(chainId: string, key: string, newName: string): void {
    this.corp(chainId, key).corpName = newName;
  }

  setCustomId(chainId: string, key: string, customId: string): void {
    this.corp(chainId, key).customId = customId;
  }

  setQualification(chainId: string, key: string, status: QualificationStatus): void {
    if (status !== 1 && status !== 2 && status !== 3) throw new RangeError('status must be 1, 2 or 3');
    this.corp(chainId, key).qualificationStatus = status;
  }

  moveCorp(chainId: string, key: string, newGroupid: number): void {
    const chain = this.chain(chainId);
    const corp = this.corp(chainId, key);
    this.requireGroup(chain, newGroupid);
    if (corp.groupid === newGroupid) return;
    this.#index.remove(chainId, corp.groupid, key, isPending(corp));
    corp.groupid = newGroupid;
    this.#index.add(chainId, newGroupid, key, isPending(corp));
  }

  /** A pending corp joins: its pending record goes, a joined one (same name, custom id, group) comes. */
  joinCorp(chainId: string, pendingKey: string, newCorpid: string): string {
    const chain = this.chain(chainId);
    const pending = this.corp(chainId, pendingKey);
    if (!isPending(pending)) throw new Error(`corp ${pendingKey} has already joined`);
    if (newCorpid === '' || newCorpid.startsWith(PENDING_PREFIX)) throw new Error(`bad corpid ${newCorpid}`);
    if (chain.corps.has(newCorpid)) throw new Error(`corp ${newCorpid} already exists in chain ${chainId}`);
    this.removeCorp(chainId, pendingKey);
    return this.addCorp(chainId, { ...pending, corpid: newCorpid, pendingCorpid: null });
  }

  // --- lookups that throw --------------------------------------------------------------------

  chain(chainId: string): SimChain {
    const chain = this.chains.get(chainId);
    if (!chain) throw new Error(`unknown chain ${chainId}`);
    return chain;
  }

  group(chainId: string, groupid: number): SimGroup {
    const group = this.chain(chainId).groups.get(groupid);
    if (!group) throw new Error(`unknown group ${groupid} in chain ${chainId}`);
    return group;
  }

  corp(chainId: string, key: string): SimCorp {
    const corp = this.chain(chainId).corps.get(key);
    if (!corp) throw new Error(`unknown corp ${key} in chain ${chainId}`);
    return corp;
  }

  private requireGroup(chain: SimChain, groupid: number): void {
    if (!this.hasGroup(chain, groupid)) throw new Error(`unknown group ${groupid} in chain ${chain.chainId}`);
  }

  /** 0 for the root; follows parentids, stopping at anything unknown. */
  private depthOf(chain: SimChain, groupid: number): number {
    let depth = 0;
    for (let g = chain.groups.get(groupid); g && depth <= chain.groups.size; g = chain.groups.get(g.parentid))
      depth++;
    return depth;
  }

  /** The group and all its descendants: O(groups in the chain). */
  private subtree(chain: SimChain, groupid: number): Set<number> {
    const children = new Map<number, number[]>();
    for (const g of chain.groups.values()) {
      const list = children.get(g.parentid);
      if (list) list.push(g.groupid);
      else children.set(g.parentid, [g.groupid]);
    }
    const out = new Set<number>([groupid]);
    const todo = [groupid];
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      for (const child of children.get(id) ?? []) {
        if (!out.has(child)) {
          out.add(child);
          todo.push(child);
        }
      }
    }
    return out;
  }
}
