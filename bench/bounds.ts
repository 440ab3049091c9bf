// How fast a crawl could possibly be, from the calls it had to make and the limits it works under.

export interface BoundInputs {
  /** Calls the job made, per endpoint. */
  calls: Record<string, number>;
  /** The client's cap per endpoint (WECOM_RATE_LIMIT_PER_MIN). */
  capPerMin: number;
  /** The simulator's latency per call. */
  latencyMs: number;
  /** WECOM_CONCURRENCY. */
  concurrency: number;
  /** Calls that must follow one another (see dependentCalls). */
  dependentCalls: number;
}

export interface Bounds {
  /** The busiest endpoint's calls at exactly its cap: calls / cap. */
  rateS: number;
  busiestEndpoint: string;
  /** Every call's latency spread over the concurrency: Σcalls × latency / concurrency. */
  concurrencyS: number;
  /** The lower bound: max(rateS, concurrencyS). */
  lowerBoundS: number;
  /** Which of the two the lower bound is. */
  lowerBoundBinding: 'rate' | 'concurrency';
  /**
   * With a sliding 60 s window the first `cap` calls may all go at once, so the n-th call cannot start
   * before floor((n-1)/cap) minutes: less than rateS when a run lasts only a window or two.
   */
  rateWindowS: number;
  /** The calls that cannot overlap, one latency each. */
  pathS: number;
  /** max(rateWindowS, concurrencyS, pathS): a bound no scheduler can beat. */
  strictBoundS: number;
  /** Which of the three the strict bound is. */
  binding: 'rate' | 'concurrency' | 'path';
}

export function bounds(i: BoundInputs): Bounds {
  let busiest = '';
  let most = 0;
  for (const [endpoint, n] of Object.entries(i.calls)) {
    if (n > most) [busiest, most] = [endpoint, n];
  }
  const total = Object.values(i.calls).reduce((a, b) => a + b, 0);
  const latencyS = i.latencyMs / 1000;
  const rateS = (most / i.capPerMin) * 60;
  const rateWindowS = most > 0 ? Math.floor((most - 1) / i.capPerMin) * 60 + latencyS : 0;
  const concurrencyS = (total * latencyS) / i.concurrency;
  const pathS = i.dependentCalls * latencyS;
  const strictBoundS = Math.max(rateWindowS, concurrencyS, pathS);
  const binding = strictBoundS === pathS ? 'path' : strictBoundS === rateWindowS ? 'rate' : 'concurrency';
  return {
    rateS,
    busiestEndpoint: busiest,
    concurrencyS,
    lowerBoundS: Math.max(rateS, concurrencyS),
    lowerBoundBinding: rateS >= concurrencyS ? 'rate' : 'concurrency',
    rateWindowS,
    pathS,
    strictBoundS,
    binding,
  };
}

/** Achieved calls per second per endpoint over the run, and the share of the cap that is. */
export function achievedRates(
  calls: Record<string, number>,
  wallS: number,
  capPerMin: number,
): Record<string, { perS: number; ofCap: number }> {
  const capPerS = capPerMin / 60;
  return Object.fromEntries(
    Object.entries(calls).map(([e, n]) => [e, { perS: n / wallS, ofCap: n / wallS / capPerS }]),
  );
}
