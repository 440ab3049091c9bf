// The WeCom chain API client: token handling, per-endpoint rate limits, a global concurrency cap, retries
// and validation, behind four methods that return the shapes in types.ts.
//
// One request goes: per-endpoint rate limiter (waits without holding anything) → access token →
// concurrency slot → HTTP → classification. Waiting — for the rate window, a 45009 pause, a token or a
// backoff — never holds a concurrency slot, so a throttled endpoint cannot starve the others.
import type { Dispatcher } from 'undici';
import type * as z from 'zod';
import { AbortFanout, abortReason, untilAborted } from './abort.ts';
import { ConcurrencyCap } from './concurrency.ts';
import { ERRCODE } from './errcodes.ts';
import { WecomResponseError } from './errors.ts';
import { HttpTransport, type Reply } from './http.ts';
import { type PriorCalls, seedPriorCalls } from './prior-calls.ts';
import { RateLimiter } from './rate-limit.ts';
import { Redactor } from './redact.ts';
import { type Action, classify, type Failure, failureError, retryDelay, statsKey } from './retry.ts';
import {
  chainListSchema,
  corpDetailSchema,
  corpPageSchema,
  envelopeFailure,
  groupListSchema,
  parseBody,
  storableMessage,
  tokenSchema,
} from './schemas.ts';
import { type ApiStats, countError, emptyApiStats, increment } from './stats.ts';
import { monotonicNow, type Now, type Sleep, sleep } from './timing.ts';
import { TokenCache } from './token.ts';
import {
  type Chain,
  type CorpDetail,
  type CorpInfoRequest,
  type CorpPage,
  ENDPOINTS,
  type Endpoint,
  type Group,
  HOUR_MS,
  MINUTE_MS,
} from './types.ts';

export type { ApiStats } from './stats.ts';

export interface WecomClientOptions {
  /** e.g. https://qyapi.weixin.qq.com; a path prefix (reverse proxy) is kept. */
  apiBase: string;
  corpId: string;
  corpSecret: string;
  /** Client-side cap on calls per minute, for each endpoint separately (sliding 60 s window). */
  ratePerMinute: number;
  /** The same per hour (sliding 60 min window, counted per second): WeCom blocks an endpoint for an hour. */
  ratePerHour: number;
  /** Requests in flight at most, across all endpoints. */
  concurrency: number;
  /** Per request, headers and body included. */
  timeoutMs: number;
  /** Per call, the first included. A token renewal after 40014/41001/42001 is not counted. */
  maxAttempts: number;
  /** How long an endpoint pauses after a 45009 (WeCom's window: 60000). */
  rateLimitPauseMs: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Abort: no new request starts, and every waiting call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Calls earlier processes made in the last hour: they count against this client's windows too. */
  priorCalls?: readonly PriorCalls[];
}

export interface WecomClientDeps {
  now?: Now;
  sleep?: Sleep;
  random?: () => number;
  /** Used instead of the client's own Pool; whoever made it closes it. */
  dispatcher?: Dispatcher;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/**
 * 45033s a call may draw from the cap's probing, past its way down, before they count as its attempts: at a
 * limit of 1 about half of all requests are refused all along (1,442 of 2,841 in concurrency-limit.test.ts),
 * so a call meets this many in a row about once in 4·10^9, and then still has its attempts.
 */
export const PROBE_REFUSALS = 32;
const DEFAULT_BACKOFF_BASE_MS = 250;
const DEFAULT_BACKOFF_MAX_MS = 10_000;

export class WecomClient {
  readonly #options: Required<Omit<WecomClientOptions, 'signal' | 'priorCalls'>>;
  readonly #abort: AbortFanout;
  readonly #now: Now;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #http: HttpTransport;
  readonly #cap: ConcurrencyCap;
  readonly #limiters: Record<Endpoint, RateLimiter>;
  readonly #tokens: TokenCache;
  readonly #redactor: Redactor;
  readonly #stats = emptyApiStats();

  constructor(options: WecomClientOptions, deps: WecomClientDeps = {}) {
    const { signal: _signal, priorCalls = [], ...rest } = options;
    this.#options = {
      ...rest,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
    };
    validate(this.#options);
    this.#abort = new AbortFanout(options.signal);
    this.#now = deps.now ?? monotonicNow;
    this.#sleep = deps.sleep ?? sleep;
    this.#random = deps.random ?? Math.random;
    this.#redactor = new Redactor(options.corpSecret);
    // More connections than requests in flight: a connection being torn down or set up must not leave
    // a slot waiting for a socket.
    this.#http = new HttpTransport(
      options.apiBase,
      { connections: options.concurrency * 2, timeoutMs: options.timeoutMs },
      deps.dispatcher,
    );
    this.#cap = new ConcurrencyCap(options.concurrency);
    const windows = [
      { limit: options.ratePerMinute, windowMs: MINUTE_MS },
      // Per second, not per start: an hour at WeCom's 150,000 calls would otherwise hold as many cells.
      { limit: options.ratePerHour, windowMs: HOUR_MS, resolutionMs: 1_000 },
    ];
    this.#limiters = Object.fromEntries(
      ENDPOINTS.map((e) => [e, new RateLimiter(windows, this.#now, this.#sleep)]),
    ) as Record<Endpoint, RateLimiter>;
    seedPriorCalls(this.#limiters, priorCalls, this.#now(), options.ratePerMinute);
    this.#tokens = new TokenCache(async () => {
      const fetched = await this.#call('gettoken', null, tokenSchema);
      this.#redactor.addToken(fetched.token);
      this.#stats.tokenRefreshes += 1;
      return fetched;
    }, this.#now);
  }

  getChainList(): Promise<Chain[]> {
    return this.#call('get_chain_list', null, chainListSchema);
  }

  getChainGroups(chainId: string, signal?: AbortSignal): Promise<Group[]> {
    return this.#call('get_chain_group', { chain_id: chainId }, groupListSchema, signal);
  }

  /** One page of the corps directly in a group; groupid null lists the root. Pending corps included. */
  listCorps(
    req: { chainId: string; groupid: number | null; cursor: string; limit: number },
    signal?: AbortSignal,
  ): Promise<CorpPage> {
    const body = {
      chain_id: req.chainId,
      ...(req.groupid === null ? {} : { groupid: req.groupid }),
      need_pending: true,
      cursor: req.cursor,
      limit: req.limit,
    };
    return this.#call('get_chain_corpinfo_list', body, corpPageSchema, signal);
  }

  getCorpInfo(req: CorpInfoRequest, signal?: AbortSignal): Promise<CorpDetail> {
    const body =
      'corpid' in req
        ? { chain_id: req.chainId, corpid: req.corpid }
        : { chain_id: req.chainId, pending_corpid: req.pendingCorpid };
    return this.#call('get_chain_corpinfo', body, corpDetailSchema, signal);
  }

  /** A snapshot: later calls do not change it. */
  stats(): ApiStats {
    return structuredClone(this.#stats);
  }

  /** Closes the connection pool (after the requests in flight finish). */
  async close(): Promise<void> {
    await this.#http.close();
  }

  /**
   * One API call: sends until it succeeds, the failure is final, or the attempts run out. `signal` ends
   * this call alone (the client's own signal ends them all).
   */
  async #call<T>(
    endpoint: Endpoint,
    body: object | null,
    schema: z.ZodType<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    // Every wait of this call (rate limit, slot, HTTP, backoff) listens to its own child signal.
    const abort = this.#abort.child(signal);
    try {
      return await this.#attempts(endpoint, body, schema, abort.signal);
    } finally {
      abort.dispose();
    }
  }

  async #attempts<T>(
    endpoint: Endpoint,
    body: object | null,
    schema: z.ZodType<T>,
    signal: AbortSignal,
  ): Promise<T> {
    let failedAttempts = 0;
    let tokenRenewed = false;
    let eased = 0;
    for (;;) {
      const { reply, token, capAtSend } = await this.#send(endpoint, body, signal);
      const outcome = this.#interpret(endpoint, schema, reply);
      if (outcome.ok) {
        this.#cap.succeeded();
        return outcome.value;
      }
      const { failure } = outcome;
      countError(this.#stats.errors[endpoint]!, statsKey(failure));
      const drawnByCap = this.#adapt(endpoint, failure, capAtSend);
      const action = classify(failure);
      if (action === 'token' && token !== null && !tokenRenewed) {
        // Not a transient failure, so not an attempt: a token can expire at any point of a long run.
        // The renewed token is the cached one, which the next send takes.
        tokenRenewed = true;
        increment(this.#stats.retries, endpoint);
        await untilAborted(this.#tokens.replace(token), signal);
        continue;
      }
      // A 45033 the cap drew (ConcurrencyCap.overloaded) is the client's to fix, not a failure of the call:
      // WeCom's limit for an API may be far below the cap (5, or 1), and the cap probes above it all along,
      // so charged as attempts these would fail calls. Sent alone at a cap of 1, a 45033 is an attempt like
      // any other failure; and a call refused for ever while other calls raise the cap again ends after the
      // cap's way down and PROBE_REFUSALS more.
      if (drawnByCap && eased < this.#options.concurrency + PROBE_REFUSALS) {
        eased += 1;
        increment(this.#stats.retries, endpoint);
        await this.#sleep(retryDelay(failure, 1, this.#options, this.#random), signal);
        continue;
      }
      failedAttempts += 1;
      if (!isRetryable(action) || failedAttempts >= this.#options.maxAttempts) {
        throw failureError(endpoint, this.#redacted(failure));
      }
      increment(this.#stats.retries, endpoint);
      // After a 45009 the endpoint's pause (see #adapt) replaces the backoff.
      if (action !== 'pause') {
        await this.#sleep(retryDelay(failure, failedAttempts, this.#options, this.#random), signal);
      }
    }
  }

  /**
   * Waits for room in the endpoint's window, then takes the token, then waits for a concurrency slot and
   * sends. The token is taken only once the window has room: a call can wait there for up to an hour (or a
   * 45009 pause), longer than a token may have left, and a token WeCom has expired costs a request from
   * the endpoint's window as well as the call's one renewal.
   */
  async #send(
    endpoint: Endpoint,
    body: object | null,
    signal: AbortSignal,
  ): Promise<{ reply: Reply; token: string | null; capAtSend: number }> {
    for (;;) {
      const permit = await this.#limiters[endpoint].acquire(signal);
      let token: string | null = null;
      try {
        // A token refresh is shared by every call waiting for it: this call stops waiting when it is aborted.
        if (endpoint !== 'gettoken') token = await untilAborted(this.#tokens.get(), signal);
      } catch (error) {
        permit.release();
        throw error;
      }
      const query: Record<string, string> =
        token === null
          ? { corpid: this.#options.corpId, corpsecret: this.#options.corpSecret }
          : { access_token: token };
      // Queued for a slot, an aborted call leaves at once; its place runs later, sees the abort and ends.
      let capAtSend = 0;
      const reply = await untilAborted(
        this.#cap.run(async () => {
          if (signal.aborted) {
            permit.release();
            throw abortReason(signal);
          }
          // The endpoint was paused (45009) while this request queued for a slot: wait again, unsent.
          if (!permit.start()) return null;
          increment(this.#stats.calls, endpoint);
          capAtSend = this.#cap.current;
          return this.#http.send({ endpoint, query, body: body ?? undefined }, signal);
        }),
        signal,
      );
      if (reply !== null) return { reply, token, capAtSend };
    }
  }

  /** The validated value of an errcode-0 answer, or the failure to handle. A malformed answer throws. */
  #interpret<T>(endpoint: Endpoint, schema: z.ZodType<T>, reply: Reply): Outcome<T> {
    if (reply.kind !== 'json') return { ok: false, failure: reply };
    try {
      const failure = envelopeFailure(endpoint, reply.body);
      return failure === null
        ? { ok: true, value: parseBody(endpoint, schema, reply.body) }
        : { ok: false, failure };
    } catch (error) {
      // Not retried: WeCom answered, and asking again would get the same answer.
      if (error instanceof WecomResponseError) countError(this.#stats.errors[endpoint]!, 'invalid_response');
      throw error;
    }
  }

  /**
   * What every call must learn from a failure, whether or not this one retries: WeCom's window for the
   * endpoint is spent (45009), or too many requests are in flight (45033). Returns whether the concurrency
   * cap drew the failure, for a request sent under a cap of `capAtSend`.
   */
  #adapt(endpoint: Endpoint, failure: Failure, capAtSend: number): boolean {
    if (failure.kind !== 'errcode') return false;
    if (failure.errcode === ERRCODE.frequency) {
      // WeCom blocks the endpoint for the rest of its window: every call to it waits in the limiter,
      // without holding a slot, while the other endpoints carry on.
      this.#limiters[endpoint].pauseUntil(this.#now() + this.#options.rateLimitPauseMs);
    }
    return failure.errcode === ERRCODE.concurrency && this.#cap.overloaded(capAtSend);
  }

  #redacted(failure: Failure): Failure {
    return failure.kind === 'errcode'
      ? { ...failure, errmsg: storableMessage(this.#redactor.scrub(failure.errmsg)) }
      : failure;
  }
}

function isRetryable(action: Action): boolean {
  return action === 'retry' || action === 'pause';
}

function validate(o: Required<Omit<WecomClientOptions, 'signal' | 'priorCalls'>>): void {
  const positiveIntegers = ['ratePerMinute', 'ratePerHour', 'concurrency', 'maxAttempts'] as const;
  for (const key of positiveIntegers) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new RangeError(`${key} must be a positive integer`);
  }
  const durations = ['timeoutMs', 'rateLimitPauseMs', 'backoffBaseMs', 'backoffMaxMs'] as const;
  for (const key of durations) {
    if (!Number.isFinite(o[key]) || o[key] < 0) throw new RangeError(`${key} must be a finite number >= 0`);
  }
  if (o.timeoutMs <= 0) throw new RangeError('timeoutMs must be > 0');
}
