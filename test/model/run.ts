// One seed from start to end: a network and a simulator, sometimes a second upstream corp's in the same
// database (whose rows no run of the first may touch, nor its runs the first's), a first sync, then `rounds`
// rounds, stopping at the first run that shows a problem. Everything random comes from the seed, so a
// failure names what reproduces it; the timing of concurrent requests still varies, which is why every
// check allows for what it can change.
import type { Database, Queryable } from '../../src/db/database.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { CORP_ID, SECRET } from '../helpers/simulated.ts';
import { compareStored } from './compare.ts';
import type { DetailsMode } from './details.ts';
import { ExpectedStore } from './expected.ts';
import type { SimClock } from './faults.ts';
import { BIG, buildNetwork, newWorld, type Size, SMALL } from './network.ts';
import { runRound, type SeedState } from './round.ts';

export interface SeedOptions {
  seed: number;
  rounds: number;
  /** 60% of mutations are joins, custom ids, removals and returns: the entity links' inputs. */
  joinHeavy: boolean;
  /** Up to 4 chains, 10 groups and 60 corps each, 10 mutations a round. */
  big: boolean;
  /** Default: drawn from the seed ('changed' twice as likely as 'all' or 'none'). */
  mode?: DetailsMode;
  /** Default true; the first run has none either way. */
  faults?: boolean;
}

export interface SeedResult {
  seed: number;
  mode: DetailsMode;
  /** Runs checked without a problem, either upstream's, the first syncs included. */
  rounds: number;
  /** Null, or the seed, round and first difference, then the round's context and further differences. */
  failure: string | null;
  /** What the seed exercised (events by type, runs by status, linked versions...), summed by the CLI. */
  coverage: Record<string, number>;
}

export type SeedDatabase = Queryable & { database: Database };

const OTHER_UPSTREAM = 'wwother';

export async function runSeed(db: SeedDatabase, options: SeedOptions): Promise<SeedResult> {
  const size: Size = options.big ? BIG : SMALL;
  const first = await startUpstream(db, CORP_ID, options.seed, size, options);
  const states = [first];
  try {
    // Another upstream corp in the same database, with the same chain ids (ch0..) and corp keys (wj1..,
    // pending:p1..) for other corps: it is mutated and synced every round too, so a statement that lets one
    // upstream's run touch the other's rows shows in either direction. Drawn after the first's own draws,
    // and its own draws from its own seed: the first upstream meets what it met when it was synced once.
    if (first.world.rng.chance(0.5))
      states.push(await startUpstream(db, OTHER_UPSTREAM, options.seed + 100_000, size, options));
    return await runRounds(states, options);
  } finally {
    for (const s of states) await s.sim.close();
  }
}

/** One upstream's network, simulator, model and tuning, all drawn from `worldSeed`. */
async function startUpstream(
  db: SeedDatabase,
  upstream: string,
  worldSeed: number,
  size: Size,
  options: SeedOptions,
): Promise<SeedState> {
  const world = newWorld(worldSeed, size);
  buildNetwork(world);
  const { rng } = world;
  const mode = options.mode ?? rng.pick(['all', 'changed', 'changed', 'none'] as const);
  const clock: SimClock = { offsetMs: 0 };
  const sim = await startSimulator({
    network: world.net,
    corpId: upstream,
    corpSecret: SECRET,
    maxPageSize: 3,
    rateLimitBlockMs: 50,
    seed: worldSeed,
    now: () => Date.now() + clock.offsetMs,
  });
  return {
    db,
    upstream,
    world,
    sim,
    clock,
    model: new ExpectedStore(),
    joinHeavy: options.joinHeavy,
    faults: options.faults ?? true,
    mode,
    tuning: { apiConcurrency: 1 + rng.int(4), chainConcurrency: 1 + rng.int(3), pageSize: 1 + rng.int(3) },
    agesDetails: rng.chance(0.5),
    nowOffsetMs: 0,
  };
}

async function runRounds(states: SeedState[], options: SeedOptions): Promise<SeedResult> {
  const [first] = states as [SeedState];
  const name = `seed ${options.seed} (mode ${first.mode}${options.joinHeavy ? ', joins' : ''}${options.big ? ', big' : ''})`;
  let failure: string | null = null;
  let round = 0;
  let runs = 0;
  let s = first;
  try {
    for (; round <= options.rounds && !failure; round++)
      for (s of runOrder(states)) {
        const report = await runRound(s, round);
        report.problems.push(...(await checkIdle(s, states)));
        if (!report.problems.length) {
          runs++;
          continue;
        }
        const [problem, ...rest] = report.problems;
        const more = rest
          .slice(0, 24)
          .map((p) => `\n    ${p}`)
          .join('');
        failure = `${name} failed in round ${round}${upstreamNote(s)}: ${problem}\n  ${report.summary}${more && `\n  also:${more}`}`;
        break;
      }
  } catch (err) {
    failure = `${name} threw in round ${round}${upstreamNote(s)}: ${(err as Error).stack}\n  mutations: ${s.world.log.join(' | ')}`;
  }
  const reached = states.map((x) => x.world.reached);
  return {
    seed: options.seed,
    mode: first.mode,
    rounds: runs,
    failure,
    coverage: { ...(await coverageOf(first.db).catch(() => ({}))), ...sum(reached) },
  };
}

/** Which upstream a failure is in, when it is not the first's. */
const upstreamNote = (s: SeedState) => (s.upstream === CORP_ID ? '' : ` (upstream ${s.upstream})`);

/** Each round, the upstreams run one after the other, in an order the second one draws from its own seed. */
function runOrder(states: SeedState[]): SeedState[] {
  const [first, other] = states;
  return other?.world.rng.chance(0.5) ? [other, first!] : states;
}

/** After a run, every other upstream's tables and histories must still be exactly as its model has them. */
async function checkIdle(ran: SeedState, states: SeedState[]): Promise<string[]> {
  const problems: string[] = [];
  for (const idle of states.filter((x) => x !== ran))
    for (const p of await compareStored(idle.db, idle.model, idle.upstream))
      problems.push(`${idle.upstream}'s ${p} (after a run of ${ran.upstream})`);
  return problems;
}

function sum(counts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c)) total[k] = (total[k] ?? 0) + n;
  return total;
}

async function coverageOf(db: Queryable): Promise<Record<string, number>> {
  const coverage: Record<string, number> = {};
  const add = (key: string, n: number | null) => {
    coverage[key] = (coverage[key] ?? 0) + (n ?? 0);
  };
  const events = await db.query('select event_type, count(*)::int n from wecom.chain_corp_events group by 1');
  for (const r of events.rows) add(r.event_type, r.n);
  const runs = await db.query(
    `select status::text s, count(*)::int n, sum((stats->>'details_failed')::int)::int df,
            sum((stats->>'missing_found')::int)::int mf, sum((stats->'chains'->>'failed')::int)::int cf
     from wecom.sync_runs group by 1`,
  );
  for (const r of runs.rows) {
    add(`run:${r.s}`, r.n);
    add('details_failed', r.df);
    add('missing_found', r.mf);
    add('chains_failed', r.cf);
  }
  const linked = await db.query(
    'select count(*)::int n from wecom.chain_corp_history where entity_key <> corp_key',
  );
  add('linked_versions', linked.rows[0].n);
  // The second upstream's runs, and the chains and corps it stored under ids the first stored too: what
  // lets the check see one upstream's run touch the other's rows.
  const other = await db.query(
    `select (select count(*)::int from wecom.sync_runs where upstream_corpid <> $1) runs,
       (select count(*)::int from (select 1 from wecom.chains group by chain_id having count(*) > 1) x) chains,
       (select count(*)::int from (select 1 from wecom.chain_corps group by chain_id, corp_key
                                   having count(*) > 1) x) corps`,
    [CORP_ID],
  );
  add('other_runs', other.rows[0].runs);
  add('shared_chain_ids', other.rows[0].chains);
  add('shared_corp_keys', other.rows[0].corps);
  return coverage;
}
