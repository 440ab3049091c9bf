// Builds a network from a NetworkSpec. Deterministic: every random choice comes from one Rng seeded
// by spec.seed, and ids are unique by construction (a bijective hash of a counter), so a
// million-corp network needs no uniqueness checks, no sorting and a single pass.
import {
  MAX_DEPTH,
  type NetworkSpec,
  PENDING_PREFIX,
  ROOT_GROUP_ID,
  type SimChain,
  type SimCorp,
  type SimGroup,
} from './model.ts';
import { chainName, corpName, customIdStyle, groupName, inviterPool } from './names.ts';
import { hexId, mix32, Rng } from './random.ts';

/** Share of corps placed directly in the root group when the chain has groups. */
const ROOT_SHARE = 0.08;
/** Share of a chain's custom ids left empty, as when an importer skipped the column. */
const EMPTY_CUSTOM_ID = 0.12;
/** Share of joined corps in later chains that are also members of the first chain (same corpid). */
const SHARED_CORP = 0.03;
/** Share of groups whose id is allocated after the others, as if re-created or moved later: their
 * children then have smaller ids than they do and may be listed before them. */
const LATE_GROUP = 0.05;
const TWO_POW_31 = 2 ** 31;

function validateSpec(spec: NetworkSpec): void {
  for (const key of ['chains', 'groups', 'corps'] as const) {
    if (!Number.isSafeInteger(spec[key]) || spec[key] < 0)
      throw new RangeError(`spec.${key} must be a count`);
  }
  if (!(spec.pendingRatio >= 0 && spec.pendingRatio <= 1))
    throw new RangeError('spec.pendingRatio must be in 0..1');
  if (!Number.isInteger(spec.maxDepth) || spec.maxDepth < 1 || spec.maxDepth > MAX_DEPTH) {
    throw new RangeError(`spec.maxDepth must be in 1..${MAX_DEPTH}`);
  }
  if (!Number.isFinite(spec.seed)) throw new RangeError('spec.seed must be a finite number');
  if (spec.chains === 0 && spec.groups + spec.corps > 0)
    throw new RangeError('groups and corps need a chain');
}

export function generateChains(spec: NetworkSpec): Map<string, SimChain> {
  validateSpec(spec);
  const rng = new Rng(spec.seed);
  // Distinct salts per id space, so a chain id, a corpid and a pending id never share digits.
  const salt = [0x51ed270b, 0x2545f491, 0x1b873593, 0x7feb352d, 0x68e31da4, 0x3c6ef372].map((k) =>
    mix32((spec.seed >>> 0) ^ k),
  );
  // Bigger chains first, smaller ones after (weights 1, 1/√2, 1/√3…), like a real company's mix.
  const weights = Array.from({ length: spec.chains }, (_, c) => 1 / Math.sqrt(c + 1));
  const groupCounts = allocate(spec.groups, weights);
  const corpCounts = allocate(spec.corps, weights);
  const ids = { joined: 0, pending: 0 };
  const shared: SimCorp[] = [];
  const chains = new Map<string, SimChain>();
  let maxOrder = -1;
  for (let c = 0; c < spec.chains; c++) {
    const chainId = hexId('Ch', mix32(c ^ salt[4]!), mix32(c + salt[5]!));
    const chain: SimChain = { chainId, chainName: chainName(c), groups: new Map(), corps: new Map() };
    const groupids = buildGroups(rng, chain.groups, groupCounts[c]!, spec.maxDepth);
    for (const g of chain.groups.values()) maxOrder = Math.max(maxOrder, g.order);
    const ctx: CorpContext = { rng, chain, groupids, spec, salt, ids, shared, isFirst: c === 0 };
    fillCorps(ctx, corpCounts[c]!);
    chains.set(chainId, chain);
  }
  if (maxOrder >= 0 && maxOrder <= TWO_POW_31) {
    // Guarantee an order above int4 so every consumer's bigint handling is exercised.
    const first = chains.values().next().value?.groups.values().next().value;
    if (first) first.order = 2 ** 32 - 1;
  }
  return chains;
}

/** Splits total by weight into integers that sum to total exactly. */
function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = weights.map((w) => Math.floor((total * w) / sum));
  let rest = total - out.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % out.length, rest--) out[i]! += 1;
  return out;
}

interface Node {
  depth: number;
  /** Index into nodes, or -1 for the root. */
  parent: number;
  children: number;
  offset: number;
  late: boolean;
}

/** Fills `groups` (in ascending groupid order) and returns the groupids in creation order. */
function buildGroups(rng: Rng, groups: Map<number, SimGroup>, count: number, maxDepth: number): number[] {
  const root: Node = { depth: 0, parent: -1, children: 0, offset: rng.int(64), late: false };
  const nodes: Node[] = [];
  // Parents are drawn uniformly from the root and every group that may still have children: a random
  // recursive tree, with few top-level groups and depth growing with size up to maxDepth.
  const open: number[] = [];
  for (let k = 0; k < count; k++) {
    const r = rng.int(open.length + 1);
    const parentIndex = r === open.length ? -1 : open[r]!;
    const parent = parentIndex === -1 ? root : nodes[parentIndex]!;
    const node: Node = {
      depth: parent.depth + 1,
      parent: parentIndex,
      children: 0,
      offset: rng.int(64),
      late: k > 0 && rng.chance(LATE_GROUP),
    };
    nodes.push(node);
    if (node.depth < maxDepth) open.push(k);
  }
  const ids = new Array<number>(count);
  let next = ROOT_GROUP_ID + 1;
  for (const late of [false, true]) {
    for (let k = 0; k < count; k++) {
      if (nodes[k]!.late !== late) continue;
      ids[k] = next;
      // Occasional gaps, as left by deleted groups.
      next += rng.chance(0.1) ? 2 + rng.int(4) : 1;
    }
  }
  const created: SimGroup[] = nodes.map((node, k) => {
    const parent = node.parent === -1 ? root : nodes[node.parent]!;
    const name = groupName(node.depth, parent.children++, parent.offset);
    const parentid = node.parent === -1 ? ROOT_GROUP_ID : ids[node.parent]!;
    return { groupid: ids[k]!, groupName: name, parentid, order: groupOrder(rng) };
  });
  for (const g of [...created].sort((a, b) => a.groupid - b.groupid)) groups.set(g.groupid, g);
  return ids;
}

function groupOrder(rng: Rng): number {
  const r = rng.next();
  if (r < 0.4) return rng.int(1000); // typed in by hand
  if (r < 0.8) return 100_000_000 - rng.int(1000) * 1000; // WeCom's own defaults count down from 1e8
  return rng.u32(); // anything in [0, 2^32)
}

interface CorpContext {
  rng: Rng;
  chain: SimChain;
  /** In creation order, which the skew below relies on. */
  groupids: number[];
  spec: NetworkSpec;
  salt: number[];
  ids: { joined: number; pending: number };
  shared: SimCorp[];
  isFirst: boolean;
}

const SHARED_POOL_MAX = 100_000;

function fillCorps(ctx: CorpContext, count: number): void {
  const { rng, chain, groupids, spec } = ctx;
  const inviters = inviterPool(rng);
  const customId = customIdStyle(rng);
  for (let j = 0; j < count; j++) {
    // u² skews towards the first groups created (shallower ones): a few big groups, many small.
    const u = rng.next();
    const groupid =
      groupids.length === 0 || rng.chance(ROOT_SHARE)
        ? ROOT_GROUP_ID
        : groupids[Math.floor(groupids.length * u * u)]!;
    const w = rng.next();
    const corp: SimCorp = {
      corpid: null,
      pendingCorpid: null,
      corpName: '',
      customId: rng.chance(EMPTY_CUSTOM_ID) ? '' : customId(j + 1),
      groupid,
      inviteUserid: inviters[Math.floor(inviters.length * w * w)]!,
      qualificationStatus: 1,
    };
    if (rng.chance(spec.pendingRatio)) {
      const n = ctx.ids.pending++;
      corp.pendingCorpid = hexId('wp', mix32(n ^ ctx.salt[2]!), mix32(n + ctx.salt[3]!));
      corp.corpName = corpName(rng);
      chain.corps.set(PENDING_PREFIX + corp.pendingCorpid, corp);
      continue;
    }
    const q = rng.next();
    corp.qualificationStatus = q < 0.25 ? 1 : q < 0.7 ? 2 : 3;
    const other =
      !ctx.isFirst && ctx.shared.length > 0 && rng.chance(SHARED_CORP) ? rng.pick(ctx.shared) : null;
    if (other?.corpid && !chain.corps.has(other.corpid)) {
      corp.corpid = other.corpid;
      corp.corpName = other.corpName;
    } else {
      const n = ctx.ids.joined++;
      corp.corpid = hexId('ww', mix32(n ^ ctx.salt[0]!), mix32(n + ctx.salt[1]!));
      corp.corpName = corpName(rng);
      if (ctx.isFirst && ctx.shared.length < SHARED_POOL_MAX) ctx.shared.push(corp);
    }
    chain.corps.set(corp.corpid, corp);
  }
}
