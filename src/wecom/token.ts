// The access token: fetched once, shared by every call, refreshed a little before it expires or when
// WeCom rejects it. WeCom blocks apps that call gettoken too often, so only one refresh ever runs at once.
import type { Now } from './timing.ts';

export interface FetchedToken {
  token: string;
  expiresInMs: number;
}

// Refresh this long before expiry (a few minutes), but never more than a tenth of the lifetime, so a
// short-lived token (simulators, tests) is still reused.
const REFRESH_EARLY_MS = 5 * 60_000;
// After an early refresh failed, the next waits this long: WeCom blocks apps that call gettoken too often.
const EARLY_RETRY_MS = 30_000;

export class TokenCache {
  readonly #fetch: () => Promise<FetchedToken>;
  readonly #now: Now;
  #current: { token: string; refreshAt: number; expiresAt: number } | null = null;
  #refreshing: Promise<string> | null = null;
  #earlyRetryAt = 0;

  constructor(fetch: () => Promise<FetchedToken>, now: Now) {
    this.#fetch = fetch;
    this.#now = now;
  }

  /**
   * A token believed valid: the cached one, or the result of the one refresh in progress. In its last
   * minutes the cached one still serves while a refresh runs in the background, and the calls do not wait
   * for it. Where that refresh gets a new token, a gettoken failing at expiry fails no call; WeCom itself
   * answers with the same token until it expires, and then the calls wait for the refresh at expiry.
   */
  get(): Promise<string> {
    const current = this.#current;
    const now = this.#now();
    if (current === null || now >= current.expiresAt) return this.#refreshOnce();
    if (now >= current.refreshAt && now >= this.#earlyRetryAt && this.#refreshing === null) {
      this.#refreshOnce().catch(() => {
        this.#earlyRetryAt = this.#now() + EARLY_RETRY_MS;
      });
    }
    return Promise.resolve(current.token);
  }

  /**
   * Forgets `token` after WeCom rejected it — only if it is still the cached one: a request sent with an
   * older token may fail after a newer token was fetched, and that newer one must be kept.
   */
  invalidate(token: string): void {
    if (this.#current?.token === token) this.#current = null;
  }

  /**
   * A token to repeat a call with after WeCom rejected `rejected`. A refresh already running may still
   * return it (WeCom hands out the same token while it believes it valid, and it was asked before the
   * rejection): then one more refresh runs, or the call would be sent with the rejected token again.
   */
  async replace(rejected: string): Promise<string> {
    this.invalidate(rejected);
    const token = await this.get();
    if (token !== rejected) return token;
    this.invalidate(token);
    return this.get();
  }

  #refreshOnce(): Promise<string> {
    // .finally runs asynchronously, so it cannot clear #refreshing before it is assigned.
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<string> {
    // Measured before the request: the token's lifetime starts no later than WeCom's answer.
    const requestedAt = this.#now();
    const { token, expiresInMs } = await this.#fetch();
    const expiresAt = requestedAt + expiresInMs;
    // WeCom hands out the same token until it expires (gettoken, doc 91039): an early refresh that got it
    // back has learnt only its time left, and asking again before then would get it again.
    const again = token === this.#current?.token;
    const early = again ? 0 : Math.min(REFRESH_EARLY_MS, expiresInMs / 10);
    this.#current = { token, refreshAt: expiresAt - early, expiresAt };
    return token;
  }
}
