// One seed from start to end: a network and a simulator, sometimes another upstream's rows in the same
// database (which no run may touch), a first sync, then `rounds` rounds, stopping at the first round that
// shows a problem. Everything random comes from the seed, so a failure names what reproduces it; the
// timing of concurrent requests still varies, which is why every check allows for what it can change.
import pino from 'pino';
import type { Database, Queryable } from '../../src/db/database.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { runSync } from '../../src/sync/run.ts';
import { WecomClient } from '../../src/wecom/client.ts';
import { CORP_ID, clientOptions, SECRET } from '../helpers/simulated.ts';
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
  /** Runs checked without a problem, the first sync included. */
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
  const world = newWorld(options.seed, size);
  buildNetwork(world);
  const { rng } = world;
  const mode = options.mode ?? rng.pick(['all', 'changed', 'changed', 'none'] as const);
  const clock: SimClock = { offsetMs: 0 };
  const sim = await startSimulator({
    network: world.net,
    corpId: CORP_ID,
    corpSecret: SECRET,
    maxPageSize: 3,
    rateLimitBlockMs: 50,
    seed: options.seed,
    now: () => Date.now() + clock.offsetMs,
  });
  const state: SeedState = {
    db,
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
  try {
    if (rng.chance(0.5)) await syncOtherUpstream(db, options.seed, size);
    return await runRounds(state, options);
  } finally {
    await sim.close();
  }
}

async function runRounds(s: SeedState, options: SeedOptions): Promise<SeedResult> {
  const name = `seed ${options.seed} (mode ${s.mode}${options.joinHeavy ? ', joins' : ''}${options.big ? ', big' : ''})`;
  let failure: string | null = null;
  let round = 0;
  try {
    for (; round <= options.rounds; round++) {
      const report = await runRound(s, round);
      if (!report.problems.length) continue;
      const [first, ...rest] = report.problems;
      const more = rest
        .slice(0, 24)
        .map((p) => `\n    ${p}`)
        .join('');
      failure = `${name} failed in round ${round}: ${first}\n  ${report.summary}${more && `\n  also:${more}`}`;
      break;
    }
  } catch (err) {
    failure = `${name} threw in round ${round}: ${(err as Error).stack}\n  mutations: ${s.world.log.join(' | ')}`;
  }
  return {
    seed: options.seed,
    mode: s.mode,
    rounds: round,
    failure,
    coverage: { ...(await coverageOf(s.db).catch(() => ({}))), ...s.world.reached },
  };
}

/** Another upstream corp in the same database, with the same chain ids: its rows must never change. */
async function syncOtherUpstream(db: SeedDatabase, seed: number, size: Size): Promise<void> {
  const world = newWorld(seed + 100_000, size);
  buildNetwork(world);
  const sim = await startSimulator({
    network: world.net,
    corpId: OTHER_UPSTREAM,
    corpSecret: SECRET,
    maxPageSize: 3,
  });
  const client = new WecomClient(
    clientOptions(sim, { corpId: OTHER_UPSTREAM, concurrency: 4, rateLimitPauseMs: 80 }),
  );
  try {
    const outcome = await runSync({
      db: db.database,
      api: client,
      upstreamCorpid: OTHER_UPSTREAM,
      sync: { pageSize: 3, chainConcurrency: 2, details: 'all', detailsMaxAgeHours: 24 },
      apiConcurrency: 4,
      log: pino({ level: 'silent' }),
    });
    if (outcome.status !== 'succeeded') throw new Error(`the other upstream's sync: ${outcome.status}`);
  } finally {
    await client.close();
    await sim.close();
  }
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
  return coverage;
}
