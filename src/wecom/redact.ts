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
      for (const form of echoes(secret)) out = out.replaceAll(form, '[redacted]');
    }
    return out;
  }
}

/**
 * The forms a server echoing a credential may give it: as sent, inside a URL (its request line), and inside
 * a JSON string (its request body), with non-ASCII escaped or not (in lower or upper case hex), and `/` as
 * `\/` (as PHP writes it).
 */
function echoes(secret: string): Set<string> {
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const upper = ascii.replace(/\\u[0-9a-f]{4}/g, (found) => `\\u${found.slice(2).toUpperCase()}`);
  return new Set(
    [secret, encodeURIComponent(secret), json, ascii, upper].flatMap((form) => [
      form,
      form.replaceAll('/', '\\/'),
    ]),
  );
}
