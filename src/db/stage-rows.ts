// A chain's stage, pg_temp.wcs_stage_corps: its columns, each with its SQL type and where a staged corp gives
// it. The table (merge-sql.ts, CREATE_STAGE), every row COPYed into it and the held listing that
// UNCHANGED_CORPS reads all follow this one list, so none can fall out of step with another.
import { type CorpDetail, corpKey, type ListedCorp } from '../wecom/types.ts';
import { type CopyValue, encodeCopyRow } from './copy.ts';

export interface StageColumn<From> {
  name: string;
  /** Its SQL type, which UNCHANGED_CORPS also casts a held listing's JSON to. */
  type: string;
  notNull: boolean;
  value: (from: From) => CopyValue;
}

/** A staged corp and where it came from; `detail` as in StagedCorp (chain-stage.ts). */
export interface StageRow {
  corp: ListedCorp;
  detail: CorpDetail | null | 'failed';
  listing: number;
  seq: number;
}

const column = <From>(
  name: string,
  type: string,
  value: (from: From) => CopyValue,
  notNull = true,
): StageColumn<From> => ({ name, type, notNull, value });

/** What a listing says of a corp, after its key: its stored record changes when any of these does. */
export const LISTED: readonly StageColumn<ListedCorp>[] = [
  column('corpid', 'text', (c) => (c.isJoined ? c.corpid : null), false),
  column('pending_corpid', 'text', (c) => (c.isJoined ? null : c.pendingCorpid), false),
  column('corp_name', 'text', (c) => c.corpName),
  column('custom_id', 'text', (c) => c.customId),
  column('groupid', 'bigint', (c) => c.groupid),
  column('invite_userid', 'text', (c) => c.inviteUserid, false),
  column('is_joined', 'boolean', (c) => c.isJoined),
];

// A corp's key, then LISTED: a listed corp's own columns.
const KEYED = [column<ListedCorp>('corp_key', 'text', corpKey), ...LISTED];

const fetched = ({ detail }: StageRow) => (detail === 'failed' ? null : detail);

export const STAGE: readonly StageColumn<StageRow>[] = [
  column('seq', 'bigint', (r) => r.seq),
  column('listing', 'int', (r) => r.listing),
  ...KEYED.map(({ value, ...c }) => ({ ...c, value: (r: StageRow) => value(r.corp) })),
  column('qualification_status', 'smallint', (r) => fetched(r)?.qualificationStatus ?? null, false),
  column('details_fetched', 'boolean', (r) => fetched(r) !== null),
  column('details_failed', 'boolean', (r) => r.detail === 'failed'),
];

/** One stage row in COPY's text format. */
export function encodeStageRow(row: StageRow): string {
  return encodeCopyRow(STAGE.map((c) => c.value(row)));
}

/** A corp as a held listing gives it to UNCHANGED_CORPS: its key, then LISTED. */
export function listedRecord(corp: ListedCorp): CopyValue[] {
  return KEYED.map((c) => c.value(corp));
}
