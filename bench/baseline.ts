// The baseline: the crawler a user would write by hand. Sequential — for each chain, for each group, page
// through the corps, fetch each joined corp's details — and one INSERT … ON CONFLICT DO UPDATE per row,
// autocommitted, with plain pg. No retries, no rate limit: the simulator is set up not to need them.
//
// Run as a child (reads the same environment as the CLI): node bench/baseline.ts
import pg from 'pg';

export const UPSERT_CORP = `
insert into wecom.chain_corps as t (upstream_corpid, chain_id, corp_key, corpid, pending_corpid, corp_name,
  custom_id, groupid, invite_userid, is_joined, qualification_status, details_fetched_at)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, case when $10 then now() end)
on conflict (upstream_corpid, chain_id, corp_key) do update set
  corpid = excluded.corpid, pending_corpid = excluded.pending_corpid, corp_name = excluded.corp_name,
  custom_id = excluded.custom_id, groupid = excluded.groupid, invite_userid = excluded.invite_userid,
  is_joined = excluded.is_joined, qualification_status = excluded.qualification_status,
  details_fetched_at = excluded.details_fetched_at, updated_at = now(), removed_at = null`;

/** A corp as the list returns it, with its qualification status when it has joined. */
export interface BaselineCorp {
  corpid: string | null;
  pendingCorpid: string | null;
  corpName: string;
  customId: string;
  groupid: number;
  inviteUserid: string | null;
  qualificationStatus: number | null;
}

export function upsertCorp(
  client: pg.Client | pg.PoolClient,
  upstream: string,
  chainId: string,
  c: BaselineCorp,
): Promise<unknown> {
  const key = c.corpid ?? `pending:${c.pendingCorpid}`;
  return client.query(UPSERT_CORP, [
    upstream,
    chainId,
    key,
    c.corpid,
    c.pendingCorpid,
    c.corpName,
    c.customId,
    c.groupid,
    c.inviteUserid,
    c.corpid !== null,
    c.qualificationStatus,
  ]);
}

// biome-ignore lint/suspicious/noExplicitAny: the baseline trusts the API, as a quick script would.
type Json = any;

async function main(): Promise<void> {
  const env = process.env;
  const base = env.WECOM_API_BASE!;
  const upstream = env.WECOM_CORP_ID!;
  const pageSize = Number(env.SYNC_PAGE_SIZE ?? 100);
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  await db.connect();

  const query = new URLSearchParams({ corpid: upstream, corpsecret: env.WECOM_CORP_SECRET! });
  const { access_token: token } = (await (await fetch(`${base}/cgi-bin/gettoken?${query}`)).json()) as Json;
  const call = async (path: string, body?: object): Promise<Json> => {
    const res = await fetch(`${base}/cgi-bin/${path}?access_token=${token}`, {
      method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as Json;
    if (json.errcode !== 0) throw new Error(`${path}: ${json.errcode} ${json.errmsg}`);
    return json;
  };

  const { chains } = await call('corpgroup/corp/get_chain_list');
  for (const chain of chains) {
    const chainId: string = chain.chain_id;
    await db.query(
      `insert into wecom.chains (upstream_corpid, chain_id, chain_name, last_synced_at) values ($1, $2, $3, now())
       on conflict (upstream_corpid, chain_id) do update set chain_name = excluded.chain_name,
         last_synced_at = now(), updated_at = now()`,
      [upstream, chainId, chain.chain_name],
    );
    const { groups } = await call('corpgroup/corp/get_chain_group', { chain_id: chainId });
    for (const g of groups) {
      await db.query(
        `insert into wecom.chain_groups (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order)
         values ($1, $2, $3, $4, $5, $6) on conflict (upstream_corpid, chain_id, groupid) do update set
           group_name = excluded.group_name, parentid = excluded.parentid, sort_order = excluded.sort_order,
           updated_at = now()`,
        [upstream, chainId, g.groupid, g.group_name, g.parentid, g.order],
      );
    }
    // The root group's corps are listed by leaving groupid out.
    for (const groupid of [null, ...groups.map((g: Json) => g.groupid)]) {
      let cursor = '';
      for (;;) {
        const page = await call('corpgroup/corp/get_chain_corpinfo_list', {
          chain_id: chainId,
          ...(groupid === null ? {} : { groupid }),
          need_pending: true,
          cursor,
          limit: pageSize,
        });
        for (const row of page.group_corps) {
          const joined = row.is_joined === 1;
          const detail = joined
            ? await call('corpgroup/corp/get_chain_corpinfo', { chain_id: chainId, corpid: row.corpid })
            : null;
          await upsertCorp(db, upstream, chainId, {
            corpid: joined ? row.corpid : null,
            pendingCorpid: joined ? null : row.pending_corpid,
            corpName: row.corp_name,
            customId: row.custom_id,
            groupid: row.groupid,
            inviteUserid: row.invite_userid ?? null,
            qualificationStatus: detail?.qualification_status ?? null,
          });
        }
        if (!page.has_more) break;
        cursor = page.next_cursor;
      }
    }
  }
  await db.end();
}

if (import.meta.main) await main();
