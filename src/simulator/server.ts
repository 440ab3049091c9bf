// The HTTP server: the request pipeline (limits → latency → faults → method → token → handler) and the
// running simulator's controls. All state lives on the instance; several simulators can run at once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CursorCodec } from './cursor.ts';
import { type Fault, Faults } from './faults.ts';
import { HANDLERS, type HandlerContext } from './handlers.ts';
import { type Body, factsOf, JSON_TYPE, parseBody, readBody, send, sendWire } from './http-io.ts';
import { InFlight, RateLimiter } from './limits.ts';
import { breakSchema, proxyErrorPage, truncateJson } from './malform.ts';
import type { SimNetwork } from './network.ts';
import { Rng } from './random.ts';
import { TokenStore } from './tokens.ts';
import {
  ERRCODE,
  errorBody,
  SIM_ENDPOINT_NAMES,
  SIM_ENDPOINTS,
  type SimEndpoint,
  type WireBody,
  WireError,
} from './wire.ts';

const HOUR_MS = 3_600_000;

export interface SimulatorOptions {
  network: SimNetwork;
  /** gettoken checks both: unknown corpid → 40013, wrong secret → 40001. */
  corpId: string;
  corpSecret: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Added to every response (default 0), plus up to jitterMs more (seeded). */
  latencyMs?: number;
  jitterMs?: number;
  /** gettoken's expires_in (default 7200); a token used after it answers 42001. */
  tokenTtlSeconds?: number;
  /** gettoken returns the same token while it is valid, as WeCom documents (default true). */
  reuseTokens?: boolean;
  /** Calls per endpoint per minute (default 10000, WeCom's per-corp limit); over it → 45009. */
  rateLimitPerMin?: number;
  /** How long an endpoint stays blocked after 45009 (default 60000). */
  rateLimitBlockMs?: number;
  /** Calls per endpoint per hour (default 150000, WeCom's per-corp limit); over it → 45009 for an hour. */
  rateLimitPerHour?: number;
  /** Requests in flight across the server before 45033 (default 200). */
  maxConcurrent?: number;
  /** The server's cap on `limit` (default 1000): pages may be shorter than asked. */
  maxPageSize?: number;
  /** Whether rows carry invite_userid, i.e. the app is "allowed to call" (default true). */
  inviteUserid?: boolean;
  /** Seeds random faults and latency jitter (default 1). */
  seed?: number;
  /** The clock for token expiry and rate limits (ms); tests pass a fake one. Default Date.now. */
  now?: () => number;
}

/** Indexable by any name (an unknown one reads undefined), typed exactly for the five endpoints. */
export type CallCounts = Record<SimEndpoint, number> & Record<string, number>;

export interface Simulator {
  /** e.g. http://127.0.0.1:PORT, no trailing slash. */
  readonly url: string;
  /** Live: mutations are visible to the next request. */
  readonly network: SimNetwork;
  readonly faults: Faults;
  /** Requests per endpoint name, refused ones included. */
  readonly calls: CallCounts;
  /** Zeroes `calls` (in place) and restarts `inFlightMax` from the current concurrency. */
  resetCalls(): void;
  /** Every issued token becomes invalid (40014). */
  revokeTokens(): void;
  /** The most requests seen in flight at once, refused ones included. */
  readonly inFlightMax: number;
  /** Stops listening and destroys open sockets, idle or busy; never hangs. */
  close(): Promise<void>;
}

const BY_PATH = new Map<string, SimEndpoint>(
  SIM_ENDPOINT_NAMES.map((name) => [SIM_ENDPOINTS[name].path, name]),
);

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const sim = new RunningSimulator(options);
  await sim.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return sim;
}

class RunningSimulator implements Simulator {
  url = '';
  readonly network: SimNetwork;
  readonly faults: Faults;
  readonly calls = Object.fromEntries(SIM_ENDPOINT_NAMES.map((n) => [n, 0])) as CallCounts;
  readonly #server: Server;
  readonly #ctx: HandlerContext;
  readonly #tokens: TokenStore;
  readonly #limiter: RateLimiter;
  readonly #hourLimiter: RateLimiter;
  readonly #inFlight: InFlight;
  readonly #jitter: Rng;
  readonly #latencyMs: number;
  readonly #jitterMs: number;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: SimulatorOptions) {
    const now = options.now ?? Date.now;
    const seed = options.seed ?? 1;
    this.network = options.network;
    this.faults = new Faults(seed);
    this.#jitter = new Rng(seed ^ 0x5bd1e995);
    this.#latencyMs = options.latencyMs ?? 0;
    this.#jitterMs = options.jitterMs ?? 0;
    this.#tokens = new TokenStore({
      ttlSeconds: options.tokenTtlSeconds ?? 7200,
      reuse: options.reuseTokens ?? true,
      now,
    });
    this.#limiter = new RateLimiter({
      limit: options.rateLimitPerMin ?? 10_000,
      blockMs: options.rateLimitBlockMs ?? 60_000,
      now,
    });
    this.#hourLimiter = new RateLimiter({
      limit: options.rateLimitPerHour ?? 150_000,
      windowMs: HOUR_MS,
      blockMs: HOUR_MS,
      now,
    });
    this.#inFlight = new InFlight(options.maxConcurrent ?? 200);
    this.#ctx = {
      network: options.network,
      tokens: this.#tokens,
      cursors: new CursorCodec(),
      corpId: options.corpId,
      corpSecret: options.corpSecret,
      maxPageSize: options.maxPageSize ?? 1000,
      inviteUserid: options.inviteUserid ?? true,
    };
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => this.#crash(res, err));
    });
    // Longer than any client's idle timeout, so the server never closes a socket a client is about to
    // reuse (that race shows up as sporadic ECONNRESET). close() destroys them all anyway.
    this.#server.keepAliveTimeout = 65_000;
    this.#server.headersTimeout = 66_000;
  }

  get inFlightMax(): number {
    return this.#inFlight.max;
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const { port: bound } = this.#server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  }

  resetCalls(): void {
    for (const name of SIM_ENDPOINT_NAMES) this.calls[name] = 0;
    this.#inFlight.resetMax();
  }

  revokeTokens(): void {
    this.#tokens.revokeAll();
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const endpoint = BY_PATH.get(url.pathname);
    if (!endpoint) {
      send(res, 404, 'text/plain; charset=utf-8', '404 page not found');
      return;
    }
    this.calls[endpoint]++;
    // Limits are judged on arrival; the answer still takes the latency, like any other answer.
    const withinConcurrency = this.#inFlight.enter();
    res.once('close', () => this.#inFlight.leave());
    // A call refused by one limit is not counted by the other (the hour's block is checked first).
    const withinRate =
      !this.#hourLimiter.blocked(endpoint) &&
      this.#limiter.admit(endpoint) &&
      this.#hourLimiter.admit(endpoint);
    const raw = await readBody(req);
    if (raw === null) return;
    // The latency runs from arrival: reading the body and the turns of a busy event loop are part of it,
    // not added to it (they made a 20 ms simulator answer a minimal client in 22.4 ms, not 21.3).
    const latency = this.#latencyMs + (this.#jitterMs > 0 ? this.#jitter.next() * this.#jitterMs : 0);
    await this.#sleep(arrived + latency - performance.now());
    const ip = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
    if (!withinRate) return sendWire(res, errorBody(ERRCODE.rateLimited, undefined, ip));
    if (!withinConcurrency) return sendWire(res, errorBody(ERRCODE.tooConcurrent, undefined, ip));

    const parsed = parseBody(raw);
    const body = parsed instanceof WireError ? {} : parsed;
    const fault = this.faults.take(endpoint, factsOf(endpoint, body));
    // delayMs and malformed faults still need the real answer; the others replace it.
    if (fault && !('delayMs' in fault) && !('malformed' in fault)) {
      this.#failWith(req, res, endpoint, fault, ip);
      return;
    }

    let answer: WireBody;
    try {
      answer = this.#answer(endpoint, req.method ?? 'GET', url.searchParams, parsed);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      answer = errorBody(err.errcode, err.message, ip);
    }
    if (fault && 'delayMs' in fault) await this.#sleep(fault.delayMs);
    if (fault && 'malformed' in fault) {
      if (fault.malformed === 'json') return send(res, 200, JSON_TYPE, truncateJson(JSON.stringify(answer)));
      return sendWire(res, breakSchema(endpoint, answer));
    }
    sendWire(res, answer);
  }

  /** Method, then token, then body format, then the endpoint itself, as WeCom checks them. */
  #answer(endpoint: SimEndpoint, method: string, query: URLSearchParams, parsed: Body | WireError): WireBody {
    const expected = SIM_ENDPOINTS[endpoint].method;
    if (method !== expected) throw new WireError(ERRCODE.missingParameter, `http method must be ${expected}`);
    if (endpoint !== 'gettoken') {
      const token = query.get('access_token') ?? '';
      if (token === '') throw new WireError(ERRCODE.missingToken);
      const check = this.#tokens.check(token);
      if (check === 'unknown') throw new WireError(ERRCODE.invalidToken);
      if (check === 'expired') throw new WireError(ERRCODE.tokenExpired);
    }
    if (parsed instanceof WireError) throw parsed;
    return HANDLERS[endpoint](this.#ctx, { query, body: parsed });
  }

  #failWith(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: SimEndpoint,
    fault: Fault,
    ip: string,
  ): void {
    if ('drop' in fault) {
      req.socket.destroy();
    } else if ('httpStatus' in fault) {
      const retry: Record<string, string> =
        fault.httpStatus === 429 || fault.httpStatus === 503 ? { 'Retry-After': '1' } : {};
      send(res, fault.httpStatus, 'text/html', proxyErrorPage(fault.httpStatus), retry);
    } else if ('errcode' in fault) {
      // An injected 45009 is a real one: the endpoint stays blocked for the whole block time.
      if (fault.errcode === ERRCODE.rateLimited) this.#limiter.block(endpoint);
      sendWire(res, errorBody(fault.errcode, undefined, ip));
    }
  }

  #sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  /** A bug in the simulator: say so loudly rather than pass it off as a WeCom error. */
  #crash(res: ServerResponse, err: unknown): void {
    const text = `simulator error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', text);
    else res.destroy();
  }
}
