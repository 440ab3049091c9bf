// Access tokens: random and opaque, with an expiry on an injectable clock.
import { randomBytes } from 'node:crypto';

export interface TokenOptions {
  ttlSeconds: number;
  /**
   * WeCom's gettoken doc: "有效期内重复获取返回相同结果" — asking again while a token is valid returns
   * the same token (here with the seconds it has left). Turn off to mint a new token per call.
   */
  reuse: boolean;
  now: () => number;
}

export type TokenCheck = 'ok' | 'unknown' | 'expired';

/** Expired tokens are remembered this long (to answer 42001 rather than 40014), then forgotten. */
const FORGET_AFTER_MS = 24 * 3600_000;

export class TokenStore {
  readonly #options: TokenOptions;
  /** token → expiry time (ms on the injected clock). */
  #tokens = new Map<string, number>();
  #current: string | null = null;

  constructor(options: TokenOptions) {
    this.#options = options;
  }

  issue(): { token: string; expiresIn: number } {
    const now = this.#options.now();
    const current = this.#current;
    const currentExpiry = current === null ? undefined : this.#tokens.get(current);
    if (this.#options.reuse && current !== null && currentExpiry !== undefined && now < currentExpiry) {
      return { token: current, expiresIn: Math.ceil((currentExpiry - now) / 1000) };
    }
    this.#forgetOld(now);
    // Real tokens are long base64-ish strings (up to 512 bytes); 96 chars is typical.
    const token = randomBytes(72).toString('base64url');
    this.#tokens.set(token, now + this.#options.ttlSeconds * 1000);
    this.#current = token;
    return { token, expiresIn: this.#options.ttlSeconds };
  }

  check(token: string): TokenCheck {
    const expiry = this.#tokens.get(token);
    if (expiry === undefined) return 'unknown';
    return this.#options.now() < expiry ? 'ok' : 'expired';
  }

  /** Every token issued so far becomes unknown (40014), as when WeCom invalidates them early. */
  revokeAll(): void {
    this.#tokens.clear();
    this.#current = null;
  }

  /** Oldest first (a Map keeps insertion order and every token lives as long), so this stops early. */
  #forgetOld(now: number): void {
    for (const [token, expiry] of this.#tokens) {
      if (now - expiry <= FORGET_AFTER_MS) return;
      this.#tokens.delete(token);
    }
  }
}
