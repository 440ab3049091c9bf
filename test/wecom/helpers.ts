// Test doubles for the WeCom client: a fake clock whose sleeps resolve only when the test advances it,
// and a scripted WeCom server on 127.0.0.1 (real HTTP, real sockets).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WecomClient, type WecomClientOptions } from '../../src/wecom/client.ts';
import { ENDPOINT_PATHS, type Endpoint } from '../../src/wecom/types.ts';

/** Lets every promise chain that can run, run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Timer {
  at: number;
  resolve: () => void;
}

export class FakeClock {
  #now = 1_000_000;
  #timers: Timer[] = [];
  readonly slept: number[] = [];

  now = (): number => this.#now;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      this.slept.push(ms);
      const timer: Timer = { at: this.#now + ms, resolve };
      this.#timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });

  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flush();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.resolve();
    }
    this.#now = target;
    await flush();
  }
}

export interface SeenRequest {
  endpoint: Endpoint;
  method: string;
  query: URLSearchParams;
  body: Record<string, unknown> | null;
}

export type Answer =
  | { json: unknown; delayMs?: number }
  | { status: number; headers?: Record<string, string> }
  /** Destroys the socket before answering. */
  | { drop: true }
  /** Sends a JSON content-length for `body` but only part of it, then destroys the socket. */
  | { truncate: string }
  /** A 200 with a body that is not JSON. */
  | { text: string }
  /** Sends headers and the start of a body, then never finishes. */
  | { stallBody: true }
  /** Sends `json` one byte every `everyMs`: never idle long, but slow in total. */
  | { drip: unknown; everyMs: number };

/** nth counts from 1 per endpoint. */
export type Script = Partial<Record<Endpoint, (req: SeenRequest, nth: number) => Answer | Promise<Answer>>>;

export const SECRET = 'S3cr3t-Do-Not-Leak-0123456789';
export const CORP_ID = 'wwcorp0001';

export function tokenAnswer(token: string, expiresIn = 7200): Answer {
  return { json: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: expiresIn } };
}

export const ok = (fields: Record<string, unknown> = {}): Answer => ({
  json: { errcode: 0, errmsg: 'ok', ...fields },
});
export const errcode = (code: number, errmsg = `error ${code}`): Answer => ({
  json: { errcode: code, errmsg },
});

const PATH_TO_ENDPOINT = new Map(Object.entries(ENDPOINT_PATHS).map(([e, p]) => [p, e as Endpoint]));

export interface FakeWecom {
  url: string;
  requests: SeenRequest[];
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

/** A WeCom server answering by script; gettoken answers TOKEN-<n> unless scripted. */
export async function startWecom(script: Script): Promise<FakeWecom> {
  const counts = new Map<Endpoint, number>();
  const state: FakeWecom = {
    url: '',
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    res.on('close', () => {
      state.inFlight -= 1;
    });
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const endpoint = PATH_TO_ENDPOINT.get(url.pathname);
    if (endpoint === undefined) {
      res.writeHead(404).end();
      return;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const seen: SeenRequest = {
      endpoint,
      method: req.method ?? '',
      query: url.searchParams,
      body: text === '' ? null : JSON.parse(text),
    };
    state.requests.push(seen);
    const nth = (counts.get(endpoint) ?? 0) + 1;
    counts.set(endpoint, nth);
    const answerer =
      script[endpoint] ?? (endpoint === 'gettoken' ? () => tokenAnswer(`TOKEN-${nth}`) : undefined);
    const answer: Answer = answerer ? await answerer(seen, nth) : { status: 404 };
    send(res, answer);
  }

  function send(res: ServerResponse, answer: Answer): void {
    if ('drop' in answer) {
      res.socket?.destroy();
    } else if ('truncate' in answer) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.truncate.length });
      res.write(answer.truncate.slice(0, Math.floor(answer.truncate.length / 2)));
      setImmediate(() => res.socket?.destroy());
    } else if ('text' in answer) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(answer.text);
    } else if ('stallBody' in answer) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"errcode":0,');
    } else if ('drip' in answer) {
      const body = JSON.stringify(answer.drip);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed || i >= body.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(body[i++]);
      }, answer.everyMs);
    } else if ('status' in answer) {
      res.writeHead(answer.status, answer.headers).end('{"errcode":-1}');
    } else {
      const write = (): void => {
        if (!res.destroyed)
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
      };
      if (answer.delayMs) setTimeout(write, answer.delayMs);
      else write();
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

export function calls(server: FakeWecom, endpoint: Endpoint): SeenRequest[] {
  return server.requests.filter((r) => r.endpoint === endpoint);
}

export interface TestClientOptions extends Partial<WecomClientOptions> {
  /** Drives now() and every sleep (backoff, rate limiter, pauses). */
  clock?: FakeClock;
  random?: () => number;
  /** Replaces sleep only (e.g. to record backoff delays without waiting). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A client with test-friendly defaults: small timeouts, tiny real backoffs unless a fake clock is given. */
export function testClient(server: FakeWecom, options: TestClientOptions = {}): WecomClient {
  const { clock, random, sleep, ...rest } = options;
  return new WecomClient(
    {
      apiBase: server.url,
      corpId: CORP_ID,
      corpSecret: SECRET,
      ratePerMinute: 10_000,
      ratePerHour: 600_000,
      concurrency: 4,
      timeoutMs: 2_000,
      maxAttempts: 3,
      rateLimitPauseMs: 60_000,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
      ...rest,
    },
    { now: clock?.now, sleep: sleep ?? clock?.sleep, random },
  );
}

/** Polls (real time) until `check` passes: for waiting on real sockets, never as the thing under test. */
export async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
