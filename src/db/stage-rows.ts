// A chain's stage rows, in the columns of pg_temp.wcs_stage_corps (merge-sql.ts, CREATE_STAGE).
import { type CorpDetail, corpKey, type ListedCorp } from '../wecom/types.ts';
import { type CopyValue, encodeCopyRow } from './copy.ts';

/** The columns a listing gives, in the stage's order after seq and listing (as UNCHANGED_CORPS reads them). */
export function listedColumns(corp: ListedCorp): CopyValue[] {
  return [
    corpKey(corp),
    corp.isJoined ? corp.corpid : null,
    corp.isJoined ? null : corp.pendingCorpid,
    corp.corpName,
    corp.customId,
    corp.groupid,
    corp.inviteUserid,
    corp.isJoined,
  ];
}

/** One stage row in COPY's text format; `detail` as in StagedCorp (chain-stage.ts). */
export function encodeStageRow(
  corp: ListedCorp,
  detail: CorpDetail | null | 'failed',
  listing: number,
  seq: number,
): string {
  const fetched = detail === 'failed' ? null : detail;
  return encodeCopyRow([
    seq,
    listing,
    ...listedColumns(corp),
    fetched?.qualificationStatus ?? null,
    fetched !== null,
    detail === 'failed',
  ]);
}
