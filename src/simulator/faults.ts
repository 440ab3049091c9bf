// Failures the simulator plays on purpose. Scripted faults are deterministic (tests say exactly which
// requests fail and check they all fired); random faults are seeded (demo/bench "faults on" mode).
import { Rng } from './random.ts';
import { isSimEndpoint, type SimEndpoint } from './wire.ts';

export type Fault =
  /** Answer HTTP 200 with this errcode. 45009 also blocks the endpoint, as a real one does. */
  | { errcode: number }
  /** Answer this HTTP status with a proxy's HTML page (502, 503, 429…). */
  | { httpStatus: number }
  /** Destroy the socket without answering. */
  | { drop: true }
  /** Answer correctly, but this much later (on top of any latency): for client timeouts. */
  | { delayMs: number }
  /** 'json': HTTP 200 with a truncated body. 'schema': errcode 0 with a field of the wrong type. */
  | { malformed: 'json' | 'schema' };

/** Restricts a rule to requests naming these ids (in the body). */
export interface FaultMatch {
  chainId?: string;
  /** get_chain_corpinfo_list without groupid counts as groupid 1 (the root). */
  groupid?: number;
  corpid?: string;
  pendingCorpid?: string;
}

export interface FaultRule {
  endpoint: SimEndpoint;
  /** How many matching requests fail; Infinity for all of them until clear(). */
  count: number;
  fault: Fault;
  match?: FaultMatch;
}

export interface RandomFaults {
  /** Probability, per request, of a fault. */
  rate: number;
  /** Drawn uniformly; default: errcode -1, errcode 45033, HTTP 502, drop. */
  kinds?: Fault[];
  /** Default: every endpoint. */
  endpoints?: SimEndpoint[];
}

/** The ids a request names, for matching. */
export type RequestFacts = FaultMatch;

export const DEFAULT_RANDOM_KINDS: readonly Fault[] = [
  { errcode: -1 },
  { errcode: 45033 },
  { httpStatus: 502 },
  { drop: true },
];

interface ActiveRule {
  endpoint: SimEndpoint;
  remaining: number;
  fault: Fault;
  match: FaultMatch | undefined;
}

export class Faults {
  #rules: ActiveRule[] = [];
  #random: Required<RandomFaults> | null = null;
  readonly #rng: Rng;

  constructor(seed = 1) {
    this.#rng = new Rng(seed);
  }

  /** The next `count` requests to `endpoint` that match fail with `fault`. Rules fire in the order given. */
  inject(rule: FaultRule): void {
    if (!isSimEndpoint(rule.endpoint)) throw new Error(`unknown endpoint ${String(rule.endpoint)}`);
    if (!(rule.count === Number.POSITIVE_INFINITY || (Number.isInteger(rule.count) && rule.count >= 0))) {
      throw new RangeError('count must be a non-negative integer or Infinity');
    }
    validateFault(rule.fault);
    if (rule.count === 0) return;
    this.#rules.push({
      endpoint: rule.endpoint,
      remaining: rule.count,
      fault: rule.fault,
      match: rule.match,
    });
  }

  /** Turns random faults on (or off, with null or rate 0). */
  setRandom(config: RandomFaults | null): void {
    if (config === null || config.rate === 0) {
      this.#random = null;
      return;
    }
    if (!(config.rate > 0 && config.rate <= 1)) throw new RangeError('rate must be in 0..1');
    const kinds = config.kinds ?? [...DEFAULT_RANDOM_KINDS];
    if (kinds.length === 0) throw new RangeError('kinds must not be empty');
    for (const k of kinds) validateFault(k);
    const endpoints = config.endpoints ?? [];
    for (const e of endpoints) if (!isSimEndpoint(e)) throw new Error(`unknown endpoint ${String(e)}`);
    this.#random = { rate: config.rate, kinds, endpoints };
  }

  /** Removes every scripted rule and turns random faults off. */
  clear(): void {
    this.#rules = [];
    this.#random = null;
  }

  /** Scripted failures still to come (Infinity if a rule is unlimited). */
  pending(): number {
    return this.#rules.reduce((sum, r) => sum + r.remaining, 0);
  }

  /** The fault this request suffers, if any; consumes one count of the scripted rule that fires. */
  take(endpoint: SimEndpoint, facts: RequestFacts): Fault | null {
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i]!;
      if (rule.endpoint !== endpoint || !matches(rule.match, facts)) continue;
      rule.remaining--;
      if (rule.remaining <= 0) this.#rules.splice(i, 1);
      return rule.fault;
    }
    const random = this.#random;
    if (!random) return null;
    if (random.endpoints.length > 0 && !random.endpoints.includes(endpoint)) return null;
    // Draw both numbers every time so the sequence depends only on the number of requests.
    const hit = this.#rng.chance(random.rate);
    const kind = this.#rng.pick(random.kinds);
    return hit ? kind : null;
  }
}

function matches(match: FaultMatch | undefined, facts: RequestFacts): boolean {
  if (!match) return true;
  return (
    (match.chainId === undefined || match.chainId === facts.chainId) &&
    (match.groupid === undefined || match.groupid === facts.groupid) &&
    (match.corpid === undefined || match.corpid === facts.corpid) &&
    (match.pendingCorpid === undefined || match.pendingCorpid === facts.pendingCorpid)
  );
}

function validateFault(fault: Fault): void {
  const keys = Object.keys(fault);
  if (keys.length !== 1)
    throw new Error(`a fault has exactly one of errcode, httpStatus, drop, delayMs, malformed`);
  if ('errcode' in fault) {
    if (!Number.isInteger(fault.errcode) || fault.errcode === 0)
      throw new RangeError('errcode must be non-zero');
  } else if ('httpStatus' in fault) {
    if (!Number.isInteger(fault.httpStatus) || fault.httpStatus < 200 || fault.httpStatus > 599) {
      throw new RangeError('httpStatus must be in 200..599');
    }
  } else if ('drop' in fault) {
    if (fault.drop !== true) throw new Error('drop must be true');
  } else if ('delayMs' in fault) {
    if (!(fault.delayMs >= 0 && Number.isFinite(fault.delayMs))) throw new RangeError('delayMs must be >= 0');
  } else if ('malformed' in fault) {
    if (fault.malformed !== 'json' && fault.malformed !== 'schema')
      throw new Error("malformed is 'json' or 'schema'");
  } else {
    throw new Error(`unknown fault ${JSON.stringify(fault)}`);
  }
}
