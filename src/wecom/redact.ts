// Keeps the secret and access tokens out of everything the client reports. WeCom's errmsg is free text
// from the server; a misbehaving server (or proxy) echoing a credential back must not leak it into logs
// and the run record.
const MAX_TOKENS_KEPT = 8;

export class Redactor {
  readonly #secret: string;
  /** The most recent tokens: a request with an older one can still fail and be reported. */
  readonly #tokens: string[] = [];

  constructor(secret: string) {
    this.#secret = secret;
  }

  addToken(token: string): void {
    if (this.#tokens.includes(token)) return;
    this.#tokens.push(token);
    if (this.#tokens.length > MAX_TOKENS_KEPT) this.#tokens.shift();
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of [this.#secret, ...this.#tokens]) {
      if (secret === '') continue;
      // Also as it appears inside a URL, should the server echo its request line.
      out = out.replaceAll(secret, '[redacted]').replaceAll(encodeURIComponent(secret), '[redacted]');
    }
    return out;
  }
}
