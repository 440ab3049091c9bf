// Keeps the secret and access tokens out of everything the client reports. WeCom's errmsg is free text
// from the server; a misbehaving server (or proxy) echoing a credential back must not leak it into logs
// and the run record.
const MAX_TOKENS_KEPT = 8;
const UTF8 = new TextEncoder();

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
 * Every form a server echoing a credential may give it: as sent; percent-encoded (its request line), any
 * character escaped or not, in either case of hex, a space as `+`; and inside a JSON string (its request
 * body), any character as a `\u` escape in either case (Go escapes `<>&`, .NET `+=`), `/` as `\/` (as PHP
 * writes it). Within each encoding no form of a character is the start of another, so the pattern never
 * backtracks: a `\` is always an escape in JSON, a `%` always one in a URL.
 */
function echoPattern(secret: string): RegExp {
  const chars = [...secret];
  const percent = chars.map((char) => {
    const forms = [[...UTF8.encode(char)].map((byte) => `%${anyCaseHex(byte, 2)}`).join('')];
    if (char !== '%') forms.push(RegExp.escape(char));
    if (char === ' ') forms.push('\\+');
    return `(?:${forms.join('|')})`;
  });
  const json = chars.map((char) => {
    const units = Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
    const forms = new Set([
      RegExp.escape(JSON.stringify(char).slice(1, -1)),
      units.map((unit) => `\\\\u${anyCaseHex(unit, 4)}`).join(''),
    ]);
    if (char === '/') forms.add('\\\\/');
    return `(?:${[...forms].join('|')})`;
  });
  // JSON first: a JSON-escaped echo holds the raw one's characters too, and would be scrubbed in pieces.
  return new RegExp([json.join(''), percent.join(''), RegExp.escape(secret)].join('|'), 'g');
}

const anyCaseHex = (code: number, digits: number): string =>
  code
    .toString(16)
    .padStart(digits, '0')
    .replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`);
