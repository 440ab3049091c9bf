// WeCom states a concurrency limit for a few APIs (5, or 1), below the client's cap: the 45033s it answers
// then lower the cap, cost the calls no attempt, and the sync completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimNetwork, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { CORP_ID, expectedSnapshot, SECRET, storedSnapshot, syncAgainst } from '../helpers/simulated.ts';

describe.each([
  [3, 16],
  [1, 16],
  [1, 2],
])('a sync under a concurrency limit of %i, below the client cap of %i', (limit, concurrency) => {
  let db: TestDatabase;
  let sim: Simulator;
  const network = SimNetwork.generate({
    seed: 5,
    chains: 2,
    groups: 8,
    corps: 1_500,
    pendingRatio: 0.1,
    maxDepth: 3,
  });
  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({
      network,
      corpId: CORP_ID,
      corpSecret: SECRET,
      latencyMs: 5,
      maxConcurrent: limit,
      rateLimitPerMin: 1e7,
    });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('completes with two attempts per call, though the cap probes past the limit all along', async () => {
    const outcome = await syncAgainst(sim, db.database, { client: { concurrency, maxAttempts: 2 } });
    expect(outcome.stats.failures).toEqual([]);
    expect(outcome.status).toBe('succeeded');
    // The limit did bind: WeCom refused many requests, far more than the cap's steps down to it.
    const refused = Object.values(outcome.stats.api.errors).reduce((n, e) => n + (e['45033'] ?? 0), 0);
    expect(refused).toBeGreaterThan(50);
    expect(await storedSnapshot(db.pool)).toEqual(expectedSnapshot(network));
  });
});
