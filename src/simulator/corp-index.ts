// Which corps sit directly in which group, in a stable order, so a page costs O(log n + page size)
// instead of a scan of the chain. Each entry gets a sequence number when it enters a group; a
// listing position is (phase, last seq returned), so pages stay correct across inserts and removals
// made between (or even during) listings: nothing is skipped or repeated that stayed put.
//
// Joined and pending corps are kept apart so need_pending=false never has to skip pending ones.
// Listing order: joined corps by seq, then pending corps by seq.

interface SeqList {
  keys: string[];
  /** Ascending: entries are only ever appended with a fresh seq. */
  seqs: number[];
}

interface Bucket {
  joined: SeqList;
  pending: SeqList;
}

/** Where a listing stopped: after `seq` in the joined (0) or pending (1) list. */
export interface ListPosition {
  phase: 0 | 1;
  seq: number;
}

export interface IndexPage {
  keys: string[];
  hasMore: boolean;
  /** Position after the last key returned (or the given one, when nothing was returned). */
  end: ListPosition;
}

export const LIST_START: ListPosition = { phase: 0, seq: -1 };

export class CorpIndex {
  /** chainId → groupid → bucket. Buckets appear on first insert; empty groups have none. */
  #chains = new Map<string, Map<number, Bucket>>();
  #seq = 0;

  clear(): void {
    this.#chains.clear();
  }

  add(chainId: string, groupid: number, key: string, pending: boolean): void {
    let groups = this.#chains.get(chainId);
    if (!groups) {
      groups = new Map();
      this.#chains.set(chainId, groups);
    }
    let bucket = groups.get(groupid);
    if (!bucket) {
      bucket = { joined: { keys: [], seqs: [] }, pending: { keys: [], seqs: [] } };
      groups.set(groupid, bucket);
    }
    const list = pending ? bucket.pending : bucket.joined;
    list.keys.push(key);
    list.seqs.push(this.#seq++);
  }

  /** O(group size); only mutations call it, never a request. */
  remove(chainId: string, groupid: number, key: string, pending: boolean): void {
    const bucket = this.#chains.get(chainId)?.get(groupid);
    if (!bucket) return;
    const list = pending ? bucket.pending : bucket.joined;
    const i = list.keys.lastIndexOf(key);
    if (i < 0) return;
    list.keys.splice(i, 1);
    list.seqs.splice(i, 1);
  }

  dropGroup(chainId: string, groupid: number): void {
    this.#chains.get(chainId)?.delete(groupid);
  }

  dropChain(chainId: string): void {
    this.#chains.delete(chainId);
  }

  count(chainId: string, groupid: number, includePending: boolean): number {
    const bucket = this.#chains.get(chainId)?.get(groupid);
    if (!bucket) return 0;
    return bucket.joined.keys.length + (includePending ? bucket.pending.keys.length : 0);
  }

  /** Every key in the group, in listing order (a fresh array). */
  all(chainId: string, groupid: number, includePending: boolean): string[] {
    const bucket = this.#chains.get(chainId)?.get(groupid);
    if (!bucket) return [];
    return includePending ? bucket.joined.keys.concat(bucket.pending.keys) : bucket.joined.keys.slice();
  }

  /** Up to `limit` keys after `from`. */
  page(
    chainId: string,
    groupid: number,
    includePending: boolean,
    from: ListPosition,
    limit: number,
  ): IndexPage {
    const bucket = this.#chains.get(chainId)?.get(groupid);
    if (!bucket) return { keys: [], hasMore: false, end: from };
    const keys: string[] = [];
    let { phase, seq } = from;
    if (phase === 1 && !includePending) return { keys, hasMore: false, end: from };
    for (;;) {
      const list = phase === 0 ? bucket.joined : bucket.pending;
      let i = upperBound(list.seqs, seq);
      while (i < list.seqs.length && keys.length < limit) {
        keys.push(list.keys[i]!);
        seq = list.seqs[i]!;
        i++;
      }
      if (i < list.seqs.length) return { keys, hasMore: true, end: { phase, seq } };
      if (phase === 1 || !includePending) return { keys, hasMore: false, end: { phase, seq } };
      if (keys.length >= limit) {
        return { keys, hasMore: bucket.pending.keys.length > 0, end: { phase, seq } };
      }
      phase = 1;
      seq = -1;
    }
  }
}

/** First index whose seq is greater than `seq`. */
function upperBound(seqs: number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid]! <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
