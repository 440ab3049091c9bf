// The part of the WeCom client the crawler uses: what it needs, not how it is done.
import type { Chain, CorpDetail, CorpPage, Group } from '../wecom/types.ts';

export interface ChainApi {
  getChainList(): Promise<Chain[]>;
  getChainGroups(chainId: string): Promise<Group[]>;
  listCorps(req: {
    chainId: string;
    groupid: number | null;
    cursor: string;
    limit: number;
  }): Promise<CorpPage>;
  getCorpInfo(req: { chainId: string; corpid: string }): Promise<CorpDetail>;
}
