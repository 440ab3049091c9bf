// What went wrong with one request, what to do about it, and how long to wait before trying again.
import { ERRCODE, REFUSED_ERRCODES, TOKEN_ERRCODES } from './errcodes.ts';
import { WecomApiError, WecomRefusedError, WecomTransportError } from './errors.ts';
import type { Endpoint } from './types.ts';

/** One request's failure, reduced to what the retry decision and the final error need. Never holds a URL. */
export type Failure =
  | { kind: 'errcode'; errcode: number; errmsg: string }
  | { kind: 'http'; status: number; retryAfterMs: number | null }
  | { kind: 'timeout'; timeoutMs: number }
  /** Connection refused/reset/closed, a body cut short… `code` is an error code such as ECONNRESET. */
  | { kind: 'network'; code: string }
  /** A 2xx answer whose body is not JSON: what a dropped or mangled connection leaves behind. */
  | { kind: 'bad_json' }
  /** The request could not be made at all (client closed, invalid argument): retrying cannot help. */
  | { kind: 'unusable'; code: string }
  /** An answer larger than the client takes: no WeCom answer is anywhere near it. */
  | { kind: 'too_large'; limitBytes: number };

/**
 * - retry: transient; back off and send again.
 * - pause: the endpoint's per-minute budget at WeCom is spent; pause the endpoint, then send again.
 * - token: the access token was rejected; fetch a new one and send again (once per call).
 * - fail: give up now.
 */
export type Action = 'retry' | 'pause' | 'token' | 'fail';

export function classify(failure: Failure): Action {
  switch (failure.kind) {
    case 'errcode':
      if (failure.errcode === ERRCODE.busy || failure.errcode === ERRCODE.concurrency) return 'retry';
      if (failure.errcode === ERRCODE.frequency) return 'pause';
      if (TOKEN_ERRCODES.has(failure.errcode)) return 'token';
      return 'fail';
    case 'http':
      // 429 and 5xx are load or gateway trouble; any other status means a wrong apiBase or a proxy refusing us.
      return failure.status === 429 || failure.status >= 500 ? 'retry' : 'fail';
    case 'timeout':
    case 'network':
    case 'bad_json':
      return 'retry';
    case 'unusable':
    case 'too_large':
      return 'fail';
  }
}

/** The key under which ApiStats.errors counts this failure. */
export function statsKey(failure: Failure): string {
  switch (failure.kind) {
    case 'errcode':
      return String(failure.errcode);
    case 'http':
      return `http_${failure.status}`;
    case 'timeout':
      return 'timeout';
    case 'network':
    case 'unusable':
      return 'network';
    case 'bad_json':
    case 'too_large':
      return 'invalid_response';
  }
}

/** The error a call ends with when this was its last failure. */
export function failureError(endpoint: Endpoint, failure: Failure): Error {
  switch (failure.kind) {
    case 'errcode':
      return REFUSED_ERRCODES.has(failure.errcode)
        ? new WecomRefusedError(endpoint, failure.errcode, failure.errmsg)
        : new WecomApiError(endpoint, failure.errcode, failure.errmsg);
    case 'http':
      return new WecomTransportError(endpoint, `HTTP ${failure.status}`, failure.status);
    case 'timeout':
      return new WecomTransportError(endpoint, `no complete answer within ${failure.timeoutMs} ms`);
    case 'network':
      return new WecomTransportError(endpoint, `connection failed (${failure.code})`);
    case 'bad_json':
      return new WecomTransportError(endpoint, 'answer is not valid JSON (truncated?)', 200);
    case 'unusable':
      return new WecomTransportError(endpoint, `request could not be sent (${failure.code})`);
    case 'too_large':
      return new WecomTransportError(endpoint, `answer larger than ${failure.limitBytes / 2 ** 20} MB`);
  }
}

/**
 * Capped exponential backoff with full jitter: uniform in [0, min(maxMs, baseMs * 2^retry)).
 * `retry` is 0 before the first retry. Full jitter spreads the many calls that failed together
 * (one WeCom hiccup fails every request in flight) instead of sending them back in one burst.
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry, 52));
  return Math.floor(random() * ceiling);
}

export interface BackoffOptions {
  backoffBaseMs: number;
  backoffMaxMs: number;
  rateLimitPauseMs: number;
}

/**
 * How long to wait before retrying a call that failed `failedAttempts` times: the Retry-After its server
 * gave, capped at the longest wait the client would choose itself; otherwise the backoff.
 */
export function retryDelay(
  failure: Failure,
  failedAttempts: number,
  o: BackoffOptions,
  random: () => number,
): number {
  const retryAfterMs = failure.kind === 'http' ? failure.retryAfterMs : null;
  return retryAfterMs !== null
    ? Math.min(retryAfterMs, Math.max(o.backoffMaxMs, o.rateLimitPauseMs))
    : backoffDelay(failedAttempts - 1, o.backoffBaseMs, o.backoffMaxMs, random);
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from now; null when absent or unusable. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  wallNow: number = Date.now(),
): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date names its month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse also takes bare
  // numbers such as "1.5" or "-1", as dates long past, which would mean "retry at once".
  if (!/[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - wallNow);
}
