// What a sync against the simulator should store, and what it did store, in the same plain shape.

import pino from 'pino';
import type { DetailsMode, SyncConfig } from '../../src/config.ts';
import type { Database, Queryable } from '../../src/db/database.ts';
import { corpKeyOf, type SimNetwork, type Simulator } from '../../src/simulator/index.ts';
import type { ChainApi } from '../../src/sync/api.ts';
import { type RunOutcome, runSync } from '../../src/sync/run.ts';
import { type ApiStats, WecomClient, type WecomClientOptions } from '../../src/wecom/client.ts';
import { ok, type Script, startWecom, testClient } from '../wecom/helpers.ts';

export const CORP_ID = 'wwtestupstream';
export const SECRET = 'test-secret-do-not-log';

export interface Snapshot {
  chains: Record<string, unknown>[];
  groups: Record<string, unknown>[];
  corps: Record<string, unknown>[];
}

// Rows sorted by their primary key, so two snapshots compare element by element.
const keyOf = (r: Record<string, unknown>) =>
  `${r.chain_id}\u0000${'corp_key' in r ? r.corp_key : (r.groupid ?? '')}`;
const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) => {
  const [x, y] = [keyOf(a), keyOf(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

export function expectedSnapshot(network: SimNetwork, withInviteUserid = true): Snapshot {
  const chains = [...network.chains.values()];
  return {
    chains: chains.map((c) => ({ chain_id: c.chainId, chain_name: c.chainName })).sort(byKey),
    groups: chains
      .flatMap((c) =>
        [...c.groups.values()].map((g) => ({
          chain_id: c.chainId,
          groupid: g.groupid,
          group_name: g.groupName,
          parentid: g.parentid,
          sort_order: g.order,
        })),
      )
      .sort(byKey),
    corps: chains
      .flatMap((c) =>
        [...c.corps.values()].map((corp) => ({
          chain_id: c.chainId,
          corp_key: corpKeyOf(corp),
          corpid: corp.corpid,
          pending_corpid: corp.pendingCorpid,
          corp_name: corp.corpName,
          custom_id: corp.customId,
          groupid: corp.groupid,
          invite_userid: withInviteUserid ? corp.inviteUserid : null,
          is_joined: corp.corpid !== null,
          qualification_status: corp.corpid !== null ? corp.qualificationStatus : null,
        })),
      )
      .sort(byKey),
  };
}

/** The active (not removed) rows, in the shape of expectedSnapshot. */
export async function storedSnapshot(db: Queryable, upstreamCorpid = CORP_ID): Promise<Snapshot> {
  const q = async (sql: string) => (await db.query(sql, [upstreamCorpid])).rows.sort(byKey);
  return {
    chains: await q(
      'select chain_id, chain_name from wecom.chains where upstream_corpid = $1 and removed_at is null',
    ),
    groups: await q(
      `select chain_id, groupid, group_name, parentid, sort_order from wecom.chain_groups
       where upstream_corpid = $1 and removed_at is null`,
    ),
    corps: await q(
      `select chain_id, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid, is_joined,
              qualification_status
       from wecom.chain_corps where upstream_corpid = $1 and removed_at is null`,
    ),
  };
}

/** Physical row versions: equal before and after means no row was rewritten. */
export async function rowVersions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query(
    `select 'chains' as t, chain_id as k, xmin::text as v from wecom.chains
     union all select 'groups', chain_id || '/' || groupid, xmin::text from wecom.chain_groups
     union all select 'corps', chain_id || '/' || corp_key, xmin::text from wecom.chain_corps
     order by 1, 2`,
  );
  return rows.map((r) => `${r.t}:${r.k}:${r.v}`);
}

export function clientOptions(
  sim: Simulator,
  overrides: Partial<WecomClientOptions> = {},
): WecomClientOptions {
  return {
    apiBase: sim.url,
    corpId: CORP_ID,
    corpSecret: SECRET,
    ratePerMinute: 100_000,
    ratePerHour: 6_000_000,
    concurrency: 8,
    timeoutMs: 2_000,
    maxAttempts: 5,
    rateLimitPauseMs: 150, // longer than the simulator's 100 ms block, as 60 s is to WeCom's window
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    ...overrides,
  };
}

export const SYNC: SyncConfig = {
  pageSize: 40,
  chainConcurrency: 2,
  details: 'changed',
  detailsMaxAgeHours: 24,
};

export interface SyncOptions {
  client?: Partial<WecomClientOptions>;
  sync?: Partial<SyncConfig>;
  /** Wraps the client, e.g. to act when the crawl reaches a given call. */
  wrap?: (api: WecomClient) => ChainApi & { stats(): ApiStats };
}

export async function syncAgainst(
  sim: Simulator,
  db: Database,
  options: SyncOptions = {},
): Promise<RunOutcome> {
  const client = new WecomClient(clientOptions(sim, options.client));
  try {
    return await runSync({
      db,
      api: options.wrap ? options.wrap(client) : client,
      upstreamCorpid: CORP_ID,
      sync: { ...SYNC, ...options.sync },
      apiConcurrency: 8,
      log: pino({ level: 'silent' }),
    });
  } finally {
    await client.close();
  }
}

/** A sync of upstream `wwup` against a scripted WeCom (test/wecom/helpers.ts) that lists `chains`. */
export async function syncAgainstScript(
  db: Database,
  chains: { chain_id: string; chain_name: string }[],
  script: Script,
  options: { upstreamCorpid?: string; details?: DetailsMode } = {},
): Promise<RunOutcome> {
  const server = await startWecom({ get_chain_list: () => ok({ chains }), ...script });
  const api = testClient(server);
  try {
    return await runSync({
      db,
      api,
      upstreamCorpid: options.upstreamCorpid ?? 'wwup',
      sync: {
        pageSize: 10,
        chainConcurrency: 1,
        details: options.details ?? 'changed',
        detailsMaxAgeHours: 24,
      },
      apiConcurrency: 2,
      log: pino({ level: 'silent' }),
    });
  } finally {
    await api.close();
    await server.close();
  }
}
