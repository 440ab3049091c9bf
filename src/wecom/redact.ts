// Keeps the secret and access tokens out of everything the client reports. WeCom's errmsg is free text
// from the server; a misbehaving server (or proxy) echoing a credential back must not leak it into logs
// and the run record.
const MAX_TOKENS_KEPT = 8;

export class Redactor {
  readonly #secret: RegExp | undefined;
  /** The most recent tokens, each with its pattern: a request with an older one can still fail and be reported. */
  readonly #tokens = new Map<string, RegExp>();

  constructor(secret: string) {
    this.#secret = secret === '' ? undefined : echoPattern(secret);
  }

  addToken(token: string): void {
    if (token === '' || this.#tokens.has(token)) return;
    this.#tokens.set(token, echoPattern(token));
    for (const oldest of this.#tokens.keys()) {
      if (this.#tokens.size <= MAX_TOKENS_KEPT) break;
      this.#tokens.delete(oldest);
    }
  }

  scrub(text: string): string {
    let out = text;
    for (const pattern of [this.#secret, ...this.#tokens.values()]) {
      if (pattern) out = out.replace(pattern, '[redacted]');
    }
    return out;
  }
}

/**
 * Every form a server echoing a credential may give it, and any mix of them, character by character: as
 * sent; percent-encoded (its request line, in either case of hex, space as `+`); and inside a JSON string
 * (its request body), with any character as a `\u` escape in either case (Go escapes `<>&`, .NET `+=`) and
 * `/` as `\/` (as PHP writes it).
 */
function echoPattern(secret: string): RegExp {
  const chars = [...secret].map((char) => {
    const forms = new Set([escapeRegExp(char), escapeRegExp(JSON.stringify(char).slice(1, -1))]);
    const units = Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
    forms.add(units.map((unit) => `\\\\u${anyCaseHex(unit, 4)}`).join(''));
    forms.add([...new TextEncoder().encode(char)].map((byte) => `%${anyCaseHex(byte, 2)}`).join(''));
    if (char === ' ') forms.add('\\+');
    if (char === '/') forms.add('\\\\/');
    return `(?:${[...forms].join('|')})`;
  });
  return new RegExp(chars.join(''), 'g');
}

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

const anyCaseHex = (code: number, digits: number): string =>
  code
    .toString(16)
    .padStart(digits, '0')
    .replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`);
