// The chain, groups and corps the ChainStage tests stage.
import type { CorpDetail, Group, ListedCorp } from '../../src/wecom/types.ts';

export const UP = 'wwup';
export const CHAIN = { chainId: 'ch1', chainName: '能源供应链' };
export const groups: Group[] = [
  { groupid: 2, groupName: '一级经销商', parentid: 1, order: 4_294_967_295 },
  { groupid: 3, groupName: '二级经销商', parentid: 2, order: 1 },
];
export const joined = (corpid: string, extra: Partial<ListedCorp> = {}): ListedCorp =>
  ({
    isJoined: true,
    corpid,
    corpName: `名${corpid}`,
    customId: `c-${corpid}`,
    groupid: 2,
    inviteUserid: 'li',
    ...extra,
  }) as ListedCorp;
export const pending = (id: string): ListedCorp => ({
  isJoined: false,
  pendingCorpid: id,
  corpName: `待${id}`,
  customId: '',
  groupid: 3,
  inviteUserid: null,
});
export const detail = (q: number): CorpDetail => ({
  corpName: 'x',
  qualificationStatus: q,
  customId: '',
  groupid: 2,
  isJoined: true,
});
