// One round of a seed: change the network, plan the trouble, run the real sync against the simulator,
// tell the model what each completed chain listed, and compare. Returns the problems found, the first
// being the first difference.
import pino from 'pino';
import type { Database, Queryable } from '../../src/db/database.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { isChainScoped } from '../../src/sync/errors.ts';
import { describe, type RunOutcome, runSync } from '../../src/sync/run.ts';
import { WecomClient } from '../../src/wecom/client.ts';
import { WecomRefusedError } from '../../src/wecom/errors.ts';
import { clientOptions } from '../helpers/simulated.ts';
import { compareWithModel } from './compare.ts';
import { DETAILS_MODES, type DetailsMode } from './details.ts';
import type { ExpectedStore } from './expected.ts';
import { TABLES } from './expected-state.ts';
import {
  describeInterruptions,
  type FaultPlan,
  type InterceptedCrawl,
  interceptCrawl,
  planFaults,
  planInterruptions,
  type SimClock,
} from './faults.ts';
import { mutateBetweenRuns } from './mutations.ts';
import { type ListedChain, listingsOf, type World } from './network.ts';
import { reconcileMidCrawl, refusalsOf, withKeptMisfits } from './reconcile.ts';
import { rowVersions } from './xmin.ts';

const HOUR_MS = 3_600_000;

/** One upstream corp's state across a seed's rounds. */
export interface SeedState {
  db: Queryable & { database: Database };
  /** Its upstream_corpid: a seed may sync two upstreams into one database, with the same chain ids. */
  upstream: string;
  world: World;
  sim: Simulator;
  clock: SimClock;
  model: ExpectedStore;
  joinHeavy: boolean;
  faults: boolean;
  mode: DetailsMode;
  tuning: { apiConcurrency: number; chainConcurrency: number; pageSize: number };
  /** When set, the crawl's clock moves up to 19 h a round, so stored details grow old. */
  agesDetails: boolean;
  nowOffsetMs: number;
}

export interface RoundReport {
  problems: string[];
  /** The run, its faults and this round's mutations: the context of a failure. */
  summary: string;
}

export async function runRound(s: SeedState, round: number): Promise<RoundReport> {
  const { world, model } = s;
  const trouble = s.faults && round > 0;
  world.log = [];
  if (round > 0) mutateBetweenRuns(world, s.joinHeavy);
  const plan = planFaults(world, s.sim, trouble);
  const interruptions = planInterruptions(world.rng, trouble);
  plan.described.push(...describeInterruptions(interruptions));
  if (round > 0) advanceClocks(s);
  const nowMs = Date.now() + s.nowOffsetMs;
  model.startRun(s.agesDetails ? { nowMs, maxAgeMs: 24 * HOUR_MS } : null);
  const listings = listingsOf(world.net);
  const before = await rowVersions(s.db, s.upstream);
  const client = new WecomClient(clientOptions(s.sim, clientTuning(s)));
  const crawl = interceptCrawl(client, {
    world,
    sim: s.sim,
    clock: s.clock,
    plan: interruptions,
    mutateMidCrawl: s.mode !== 'none',
  });
  let outcome: RunOutcome;
  try {
    outcome = await runSync({
      db: s.db.database,
      api: crawl.api,
      upstreamCorpid: s.upstream,
      sync: { ...s.tuning, details: s.mode, detailsMaxAgeHours: 24 },
      apiConcurrency: s.tuning.apiConcurrency,
      log: pino({ level: 'silent' }),
      // The instant the model judges details' age by: read again at each page, the clock could carry a corp
      // past its age while the run lasts, and the job would fetch details the model did not expect.
      now: () => nowMs,
      signal: crawl.abort.signal,
    });
  } finally {
    await client.close();
  }
  s.sim.faults.clear();
  const problems = await checkRun(s, { outcome, plan, crawl, listings, before });
  const summary =
    `${s.upstream} run ${outcome.runId} status ${outcome.status} mode ${s.mode} ` +
    `faults [${plan.described.join('; ')}]\n` +
    `  mutations: ${world.log.join(' | ')}`;
  return { problems, summary };
}

/** Now and then the details mode changes; with ageing on, the crawl's clock moves on. */
function advanceClocks(s: SeedState): void {
  const { rng } = s.world;
  if (rng.chance(0.05)) {
    const mode = rng.pick(DETAILS_MODES);
    if (mode !== s.mode) s.world.log.push(`(mode ${s.mode} -> ${mode})`);
    s.mode = mode;
  }
  if (s.agesDetails) s.nowOffsetMs += rng.int(20) * HOUR_MS;
}

/** Fast retries and short pauses: the simulator blocks an endpoint for 50 ms after a 45009. */
function clientTuning(s: SeedState) {
  return {
    corpId: s.upstream,
    concurrency: s.tuning.apiConcurrency,
    maxAttempts: 6,
    rateLimitPauseMs: 80,
    backoffBaseMs: 2,
    backoffMaxMs: 20,
  };
}

interface RunResult {
  outcome: RunOutcome;
  plan: FaultPlan;
  crawl: InterceptedCrawl;
  /** What each chain held when the run started. */
  listings: Map<string, ListedChain>;
  before: Map<string, string>;
}

async function checkRun(s: SeedState, r: RunResult): Promise<string[]> {
  const { outcome, plan, listings } = r;
  const rows = await s.db.query(
    'select chain_id from wecom.chains where upstream_corpid = $1 and last_run_id = $2',
    [s.upstream, outcome.runId],
  );
  const completed = new Set<string>(rows.rows.map((x) => x.chain_id));
  const problems = stoppedByWhatWeComCannotCause(outcome, r.crawl.abort.signal);
  for (const c of completed)
    if (plan.failingChains.has(c)) problems.push(`chain ${c} was meant to fail but completed`);
  const { chains, failures } = outcome.stats;
  const listed =
    !plan.listFails && chains.listed === listings.size && !(outcome.fatal && chains.listed === 0);
  if (plan.listFails && outcome.status !== 'failed')
    problems.push(`list failed but status ${outcome.status}`);
  // A chain may fail without a planned fault (retries exhausted under random faults): then the run's
  // status and counts say nothing the model can predict, but the rows must still be right.
  const unplanned = r.crawl.abort.signal.aborted
    ? []
    : [...listings.keys()].filter((c) => !completed.has(c) && !plan.failingChains.has(c) && !plan.listFails);
  if (unplanned.length)
    s.world.log.push(
      `(note: chains failed without a planned fault: ${unplanned.join(',')} ${JSON.stringify(failures)})`,
    );
  if (listed) s.model.removeUnlisted(new Set(listings.keys()), outcome.runId);
  const { uncertain } = await mergeCompleted(s, r, completed, problems);
  if (unplanned.length === 0) problems.push(...checkOutcome(s, r, { completed, listed, uncertain }));
  const facts = { upstream: s.upstream, runId: outcome.runId, completed, listed, before: r.before };
  problems.push(...(await compareWithModel(s.db, s.model, facts)));
  return problems;
}

/**
 * The model's database never fails, so a run stopped by anything but WeCom's answers or the model's own abort
 * is a defect: a statement PostgreSQL refuses would otherwise pass as chains that failed without a planned
 * fault, keeping their rows, in every run. A run the abort stopped carries the abort's reason, unless
 * something stopped it before: that is checked too.
 */
function stoppedByWhatWeComCannotCause(outcome: RunOutcome, abort: AbortSignal): string[] {
  const { fatal } = outcome;
  if (fatal === undefined || (abort.aborted && fatal === abort.reason)) return [];
  if (isChainScoped(fatal) || fatal instanceof WecomRefusedError) return [];
  return [`run stopped by ${describe(fatal)}`];
}

/** Tells the model what each completed chain's crawl listed, as far as the stored rows show it. */
async function mergeCompleted(s: SeedState, r: RunResult, completed: Set<string>, problems: string[]) {
  const { plan, listings } = r;
  let uncertain = false;
  if (r.crawl.midCrawl.length) {
    plan.described.push(`mid-crawl: ${r.crawl.midCrawl.join(', ')}`);
    const reconciled = await reconcileMidCrawl(s.db, s.upstream, {
      world: s.world,
      listings,
      completed,
      plan,
      listed: r.crawl.listed,
      storedInvite: (chainId, key) => s.model.chains.get(chainId)?.corps.get(key)?.invite ?? undefined,
    });
    problems.push(...reconciled.problems);
    uncertain = reconciled.refusalsUncertain;
  }
  for (const chainId of completed) {
    const listing = listings.get(chainId);
    if (!listing) {
      problems.push(`chain ${chainId} completed but not in the simulator`);
      continue;
    }
    const { detailCalls, misfitDetails } = r.crawl;
    const refusals = await refusalsOf(s.db, s.upstream, { chainId, plan, detailCalls, misfitDetails });
    uncertain ||= refusals.uncertain;
    const merged = withKeptMisfits(listing, s.model.chains.get(chainId)?.corps, misfitDetails);
    s.model.merge(merged.listing, r.outcome.runId, s.mode, refusals.refused, merged.kept);
  }
  return { uncertain };
}

/** The run's status, stats.details_failed and stats.rows, against the plan and the model. */
function checkOutcome(
  s: SeedState,
  r: RunResult,
  x: { completed: Set<string>; listed: boolean; uncertain: boolean },
): string[] {
  const { outcome } = r;
  const problems: string[] = [];
  const total = r.listings.size;
  const expected = r.crawl.abort.signal.aborted
    ? 'aborted'
    : !x.listed
      ? 'failed'
      : x.completed.size === total
        ? 'succeeded'
        : x.completed.size > 0
          ? 'partial'
          : 'failed';
  if (outcome.status !== expected) problems.push(`status ${outcome.status}, expected ${expected}`);
  const detailFailures = s.model.tally.detailFailures;
  if (!x.uncertain && outcome.stats.details_failed !== detailFailures)
    problems.push(`details_failed ${outcome.stats.details_failed}, model expects ${detailFailures}`);
  // A mid-crawl change makes the counts depend on which page saw it.
  if (r.crawl.midCrawl.length) return problems;
  for (const t of TABLES) {
    const [got, want] = [outcome.stats.rows[t], s.model.tally.counts[t]];
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`stats.rows.${t} ${JSON.stringify(got)}, model ${JSON.stringify(want)}`);
  }
  return problems;
}
