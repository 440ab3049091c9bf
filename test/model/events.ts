// wecom.chain_corp_events recomputed from the (already compared) history by docs/schema.md's rules:
// per entity, in time order, the first version is 'added'; a later one is 'restored' after a gap,
// 'joined' when it is the joined record after a pending one, 'moved', 'renamed', and
// 'qualification_changed' between two known statuses; a closed version with no version right after it
// is 'removed'.
import type { Queryable } from '../../src/db/database.ts';
import { diffRows, rowsOf } from './diff.ts';

// biome-ignore lint/suspicious/noExplicitAny: rows straight from the query below
type Version = any;

export async function checkEvents(db: Queryable, upstream: string): Promise<string[]> {
  const history = await rowsOf(
    db,
    `select id, chain_id, entity_key, corp_key, corpid, pending_corpid, corp_name, groupid, is_joined,
            qualification_status, valid_from::text vf, valid_to::text vt,
            extract(epoch from valid_from) as vfe, extract(epoch from valid_to) as vte, opened_run_id, closed_run_id
     from wecom.chain_corp_history where upstream_corpid = $1`,
    [upstream],
  );
  const expected = [...byEntity(history).values()].flatMap(eventsOfEntity);
  const stored = await rowsOf(
    db,
    `select chain_id, entity_key, corp_key, corpid, pending_corpid, corp_name, event_type, occurred_at::text o,
            run_id, old_value, new_value, old_groupid, new_groupid, is_joined, history_id
     from wecom.chain_corp_events where upstream_corpid = $1`,
    [upstream],
  );
  const problems: string[] = [];
  diffRows('chain_corp_events', expected, stored.map(Object.values), problems);
  return problems;
}

function byEntity(history: Version[]): Map<string, Version[]> {
  const out = new Map<string, Version[]>();
  for (const v of history) {
    const key = `${v.chain_id}\u0000${v.entity_key}`;
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(v);
  }
  return out;
}

/** One entity's events, in the column order of the view. */
function eventsOfEntity(versions: Version[]): unknown[][] {
  versions.sort((a, b) => Number(a.vfe) - Number(b.vfe) || a.id - b.id);
  const events: unknown[][] = [];
  versions.forEach((v, i) => {
    const event = (
      type: string,
      old: unknown = null,
      now: unknown = null,
      oldGroup: unknown = null,
      newGroup: unknown = null,
    ) => {
      const removal = type === 'removed';
      events.push([
        ...[v.chain_id, v.entity_key, v.corp_key, v.corpid, v.pending_corpid, v.corp_name, type],
        ...[removal ? v.vt : v.vf, removal ? v.closed_run_id : v.opened_run_id],
        ...[
          old === null ? null : String(old),
          now === null ? null : String(now),
          oldGroup,
          newGroup,
          v.is_joined,
          v.id,
        ],
      ]);
    };
    const prev = versions[i - 1];
    const next = versions[i + 1];
    if (!prev) event('added');
    else {
      if (prev.vt !== null && Number(prev.vte) < Number(v.vfe)) event('restored');
      if (!prev.is_joined && v.is_joined) event('joined', prev.corp_key, v.corp_key);
      if (prev.groupid !== v.groupid) event('moved', prev.groupid, v.groupid, prev.groupid, v.groupid);
      if (prev.corp_name !== v.corp_name) event('renamed', prev.corp_name, v.corp_name);
      const [was, is] = [prev.qualification_status, v.qualification_status];
      if (was !== null && is !== null && was !== is) event('qualification_changed', was, is);
    }
    if (v.vt !== null && (!next || Number(next.vfe) !== Number(v.vte))) event('removed');
  });
  return events;
}
