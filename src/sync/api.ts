// The part of the WeCom client the crawler uses: what it needs, not how it is done. A signal ends one
// call: a chain that failed stops the calls it still has waiting or in flight.
import type { Chain, CorpDetail, CorpInfoRequest, CorpPage, Group } from '../wecom/types.ts';

export interface ChainApi {
  getChainList(): Promise<Chain[]>;
  getChainGroups(chainId: string, signal?: AbortSignal): Promise<Group[]>;
  listCorps(
    req: { chainId: string; groupid: number | null; cursor: string; limit: number },
    signal?: AbortSignal,
  ): Promise<CorpPage>;
  /** A joined corp by its corpid, or a pending one by its pending_corpid. */
  getCorpInfo(req: CorpInfoRequest, signal?: AbortSignal): Promise<CorpDetail>;
}
