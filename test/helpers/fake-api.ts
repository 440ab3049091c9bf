// An in-memory ChainApi for crawler unit tests: pages and failures scripted per call, every call recorded.
import type { ChainApi } from '../../src/sync/api.ts';
import type { ApiStats } from '../../src/wecom/client.ts';
import { WecomApiError } from '../../src/wecom/errors.ts';
import type {
  Chain,
  CorpDetail,
  CorpInfoRequest,
  CorpPage,
  Group,
  ListedCorp,
} from '../../src/wecom/types.ts';

export interface FakeChain {
  chain: Chain;
  groups: Group[];
  /** Corps per groupid (1 for the root). */
  corps: Map<number, ListedCorp[]>;
}

type ListReq = Parameters<ChainApi['listCorps']>[0];

export class FakeApi implements ChainApi {
  readonly chains: FakeChain[];
  readonly calls: { endpoint: string; args: unknown }[] = [];
  /** The most get_chain_corpinfo calls that were ever waiting for their answer at once. */
  maxDetailsInFlight = 0;
  #detailsInFlight = 0;
  /** Return a page to replace the real one, throw to fail the call, or undefined to answer normally. */
  onList: (req: ListReq, real: CorpPage) => CorpPage | undefined = () => undefined;
  /** Awaited before a chain's groups are answered, with the call's signal. */
  beforeGroups: (chainId: string, signal?: AbortSignal) => Promise<void> = async () => {};
  /** Awaited before each listing is answered: holds the crawl at a listing until the test lets it go on. */
  beforeList: (req: ListReq) => Promise<void> = async () => {};

  constructor(chains: FakeChain[]) {
    this.chains = chains;
  }

  #chain(chainId: string): FakeChain {
    const c = this.chains.find((x) => x.chain.chainId === chainId);
    if (!c) throw new WecomApiError('get_chain_group', 40071, 'unknown chain');
    return c;
  }

  async getChainList(): Promise<Chain[]> {
    this.calls.push({ endpoint: 'get_chain_list', args: null });
    return this.chains.map((c) => c.chain);
  }

  async getChainGroups(chainId: string, signal?: AbortSignal): Promise<Group[]> {
    this.calls.push({ endpoint: 'get_chain_group', args: chainId });
    await this.beforeGroups(chainId, signal);
    return this.#chain(chainId).groups;
  }

  async listCorps(req: ListReq): Promise<CorpPage> {
    this.calls.push({ endpoint: 'get_chain_corpinfo_list', args: req });
    await this.beforeList(req);
    const all = this.#chain(req.chainId).corps.get(req.groupid ?? 1) ?? [];
    const start = req.cursor ? Number(req.cursor.slice(1)) : 0;
    const end = start + req.limit;
    const real: CorpPage = { corps: all.slice(start, end), hasMore: end < all.length, nextCursor: `c${end}` };
    return this.onList(req, real) ?? real;
  }

  async getCorpInfo(req: CorpInfoRequest): Promise<CorpDetail> {
    this.calls.push({ endpoint: 'get_chain_corpinfo', args: req });
    this.maxDetailsInFlight = Math.max(this.maxDetailsInFlight, ++this.#detailsInFlight);
    // Answered on a later turn of the event loop, as a real one is: everything else the crawl has ready
    // to ask for gets asked meanwhile.
    await new Promise(setImmediate);
    this.#detailsInFlight--;
    // As WeCom: only for a corp the chain has now, with an undocumented code otherwise.
    const corp = [...this.#chain(req.chainId).corps.values()]
      .flat()
      .find((c) =>
        'corpid' in req
          ? c.isJoined && c.corpid === req.corpid
          : !c.isJoined && c.pendingCorpid === req.pendingCorpid,
      );
    if (!corp) throw new WecomApiError('get_chain_corpinfo', 60136, 'no such corp');
    return {
      corpName: corp.corpName,
      qualificationStatus: corp.isJoined ? 2 : null,
      customId: corp.customId,
      groupid: corp.groupid,
      isJoined: corp.isJoined,
    };
  }

  count(endpoint: string): number {
    return this.calls.filter((c) => c.endpoint === endpoint).length;
  }

  stats(): ApiStats {
    const calls: Record<string, number> = {};
    for (const c of this.calls) calls[c.endpoint] = (calls[c.endpoint] ?? 0) + 1;
    return { calls, retries: {}, errors: {}, tokenRefreshes: 0 };
  }
}

export function corpsFor(groupid: number, n: number, prefix: string): ListedCorp[] {
  return Array.from({ length: n }, (_, i) => ({
    isJoined: true as const,
    corpid: `${prefix}${groupid}-${i}`,
    corpName: `企业${i}`,
    customId: `c${i}`,
    groupid,
    inviteUserid: null,
  }));
}
