// The tables BI reads. Column names are a public interface: add, never rename.
import { drizzleModule } from './drizzle.ts';

const { sql } = drizzleModule('drizzle-orm');
const {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  jsonb,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
} = drizzleModule('drizzle-orm/pg-core');

export const wecom = pgSchema('wecom');

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
// A sync_runs.id, deliberately without a foreign key: the checks cost a sixth of a first load's merge
// (one lookup and row lock per written row, for a value the writer itself just took from sync_runs), and
// they would stop an operator from pruning old run records.
const runId = (name: string) => bigint(name, { mode: 'number' });

// Column sets shared by the current-state tables and their history, so the two cannot drift apart.
const scoped = () => ({
  upstreamCorpid: text('upstream_corpid').notNull(),
  chainId: text('chain_id').notNull(),
});
const groupValues = () => ({
  groupid: bigint('groupid', { mode: 'number' }).notNull(),
  groupName: text('group_name').notNull(),
  parentid: bigint('parentid', { mode: 'number' }).notNull(),
  // The API's `order`, in [0, 2^32): does not fit an int4.
  sortOrder: bigint('sort_order', { mode: 'number' }).notNull(),
});
const corpValues = () => ({
  // corpid for a joined corp, 'pending:' || pending_corpid for one that has not joined.
  corpKey: text('corp_key').notNull(),
  corpid: text('corpid'),
  pendingCorpid: text('pending_corpid'),
  corpName: text('corp_name').notNull(),
  customId: text('custom_id').notNull(),
  groupid: bigint('groupid', { mode: 'number' }).notNull(),
  inviteUserid: text('invite_userid'),
  isJoined: boolean('is_joined').notNull(),
  // 1 unverified, 2 verified, 3 certified; null where get_chain_corpinfo was not (yet) asked.
  qualificationStatus: smallint('qualification_status'),
});
const lifecycle = () => ({
  firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
  removedAt: tz('removed_at'),
  changedRunId: runId('changed_run_id'),
});
const version = () => ({
  validFrom: tz('valid_from').notNull(),
  validTo: tz('valid_to'),
  openedRunId: runId('opened_run_id').notNull(),
  closedRunId: runId('closed_run_id'),
});

export const runStatus = wecom.enum('sync_run_status', [
  'running',
  'succeeded',
  'partial',
  'failed',
  'aborted',
]);

export const syncRuns = wecom.table(
  'sync_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    upstreamCorpid: text('upstream_corpid').notNull(),
    startedAt: tz('started_at').notNull().defaultNow(),
    finishedAt: tz('finished_at'),
    // Moved every few seconds while the run is alive: a 'running' row with an old heartbeat is a dead process.
    heartbeatAt: tz('heartbeat_at').notNull().defaultNow(),
    status: runStatus('status').notNull().default('running'),
    stats: jsonb('stats').notNull().default({}),
    error: text('error'),
  },
  (t) => [index('sync_runs_upstream_started_idx').on(t.upstreamCorpid, t.startedAt.desc())],
);

export const chains = wecom.table(
  'chains',
  {
    ...scoped(),
    chainName: text('chain_name').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    removedAt: tz('removed_at'),
    lastSyncedAt: tz('last_synced_at'),
    lastRunId: runId('last_run_id'),
  },
  (t) => [primaryKey({ columns: [t.upstreamCorpid, t.chainId] })],
);

export const chainGroups = wecom.table(
  'chain_groups',
  { ...scoped(), ...groupValues(), ...lifecycle() },
  (t) => [
    primaryKey({ columns: [t.upstreamCorpid, t.chainId, t.groupid] }),
    index('chain_groups_parent_idx').on(t.upstreamCorpid, t.chainId, t.parentid),
  ],
);

export const chainCorps = wecom.table(
  'chain_corps',
  {
    ...scoped(),
    ...corpValues(),
    customId: text('custom_id').notNull().default(''),
    detailsFetchedAt: tz('details_fetched_at'),
    ...lifecycle(),
  },
  (t) => [
    // No index on (upstream_corpid, chain_id, groupid): reads by group are of current corps, which
    // chain_corps_current_idx (migration 0003) serves, and one B-tree fewer per written corp matters.
    primaryKey({ columns: [t.upstreamCorpid, t.chainId, t.corpKey] }),
    index('chain_corps_corpid_idx').on(t.corpid),
    check(
      'chain_corps_identity',
      sql`(${t.isJoined} and ${t.corpid} is not null and ${t.pendingCorpid} is null and ${t.corpKey} = ${t.corpid})
        or (not ${t.isJoined} and ${t.corpid} is null and ${t.pendingCorpid} is not null and ${t.corpKey} = 'pending:' || ${t.pendingCorpid})`,
    ),
  ],
);

// History (type-2 slowly changing dimension): one row per version of a group or corp. A version is opened
// when something tracked changed and closed when it changes again or disappears; written in the same
// transaction as the current state, so the two never disagree.

export const chainGroupHistory = wecom.table(
  'chain_group_history',
  { id: bigserial('id', { mode: 'number' }).primaryKey(), ...scoped(), ...groupValues(), ...version() },
  (t) => [
    uniqueIndex('chain_group_history_open_idx')
      .on(t.upstreamCorpid, t.chainId, t.groupid)
      .where(sql`${t.validTo} is null`),
    index('chain_group_history_group_idx').on(t.upstreamCorpid, t.chainId, t.groupid, t.validFrom),
  ],
);

export const chainCorpHistory = wecom.table(
  'chain_corp_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ...scoped(),
    // The corp across its identities: the corp_key of its first version. A pending corp that joins keeps
    // its entity_key ('pending:…') when the link by custom_id is unambiguous.
    entityKey: text('entity_key').notNull(),
    ...corpValues(),
    ...version(),
  },
  (t) => [
    // One open version (valid_to null) per corp, and the index for a corp's versions (migration 0010).
    unique('chain_corp_history_version_key')
      .on(t.upstreamCorpid, t.chainId, t.corpKey, t.validTo)
      .nullsNotDistinct(),
    // Reads by entity use chain_corp_history_events_idx (migration 0003): same columns, chain_id first.
    index('chain_corp_history_valid_idx').on(t.validFrom, t.validTo),
  ],
);
