// One HTTP exchange with WeCom: send, enforce the whole-request timeout, read and parse the JSON body.
// Every undici error is reduced to a Failure carrying only an error code: undici messages and causes can
// contain the request URL, and gettoken's URL holds the secret.
import type { Dispatcher } from 'undici';
import { abortReason } from './abort.ts';
import { type Failure, parseRetryAfter } from './retry.ts';
import { ENDPOINT_PATHS, type Endpoint } from './types.ts';
import { Pool, request as undiciRequest } from './undici-lean.ts';

export type Reply = { kind: 'json'; body: unknown } | Failure;

export interface HttpRequest {
  endpoint: Endpoint;
  query: Record<string, string>;
  /** JSON-encoded as a POST body; undefined means GET. */
  body?: unknown;
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

// Failures of our own side: the request never left, and sending it again would fail the same way.
const UNUSABLE_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_INVALID_URL',
]);

// A page of 1000 corps is a few hundred KB; anything near this is not a WeCom answer.
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class HttpTransport {
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #origin: string;
  /** Path prefix of apiBase (usually ''), so a reverse proxy under a sub-path works. */
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(apiBase: string, options: { connections: number; timeoutMs: number }, dispatcher?: Dispatcher) {
    const base = new URL(apiBase);
    this.#origin = base.origin;
    this.#prefix = base.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#ownsDispatcher = dispatcher === undefined;
    this.#dispatcher =
      dispatcher ??
      new Pool(this.#origin, {
        connections: options.connections,
        pipelining: 1, // keep-alive without pipelining: one slow answer must not hold up others
        keepAliveTimeout: 30_000,
        connectTimeout: Math.min(options.timeoutMs, 10_000),
        // Backstops only: the per-request AbortController below enforces the whole-request timeout.
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        maxResponseSize: MAX_RESPONSE_BYTES,
      });
  }

  /** Sends one request. Resolves with the parsed body or a Failure; rejects only when `signal` aborts. */
  async send(request: HttpRequest, signal?: AbortSignal): Promise<Reply> {
    if (signal?.aborted) throw abortReason(signal);
    // One controller per request, fed by both the timer and the caller's signal. (AbortSignal.any on a
    // long-lived signal has leaked in some Node versions; this is a million requests per run.)
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await undiciRequest(this.#dispatcher, {
        origin: this.#origin,
        path: this.#prefix + ENDPOINT_PATHS[request.endpoint],
        query: request.query,
        method: request.body === undefined ? 'GET' : 'POST',
        headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
        body: request.body === undefined ? null : JSON.stringify(request.body),
        signal: controller.signal,
      });
      if (response.statusCode < 200 || response.statusCode > 299) {
        // Drain so the connection can be reused; a failure here changes nothing about the answer.
        await response.body.dump().catch(() => {});
        const retryAfterMs =
          response.statusCode === 429 || response.statusCode === 503
            ? parseRetryAfter(response.headers['retry-after'])
            : null;
        return { kind: 'http', status: response.statusCode, retryAfterMs };
      }
      const text = await response.body.text();
      try {
        return { kind: 'json', body: JSON.parse(text) };
      } catch {
        return { kind: 'bad_json' };
      }
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) return { kind: 'timeout', timeoutMs: this.#timeoutMs };
      return describeError(error, this.#timeoutMs);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Closes the pool this transport created; an injected dispatcher belongs to whoever made it. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

function describeError(error: unknown, timeoutMs: number): Failure {
  const code = errorCode(error);
  // Socket and undici errors always carry a code; an error without one is a bug, not a flaky network.
  if (code === null) return { kind: 'unusable', code: identifier(error instanceof Error ? error.name : '') };
  if (TIMEOUT_CODES.has(code)) return { kind: 'timeout', timeoutMs };
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return { kind: 'too_large', limitBytes: MAX_RESPONSE_BYTES };
  if (UNUSABLE_CODES.has(code)) return { kind: 'unusable', code };
  return { kind: 'network', code };
}

/** The error's code, or its cause's: an identifier only, never message text. */
function errorCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return identifier(code);
  }
  return null;
}

function identifier(text: string): string {
  return /^[A-Za-z0-9_]{1,64}$/.test(text) ? text : 'unknown';
}
