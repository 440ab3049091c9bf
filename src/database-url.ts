// What node-postgres will make of DATABASE_URL, checked before it connects. It reads the URL's TLS files and
// decodes the rest only when it connects, and fails there with a bare error and a stack trace; a port out of
// range fails inside the socket, where no caller hears of it and the command never ends.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'pg-connection-string';

export interface UrlProblem {
  variable: 'DATABASE_URL' | 'PGPORT';
  message: string;
}

const quoted = (value: string) => JSON.stringify(value);

/**
 * `raw` as WHATWG's parser can read it. node-postgres also takes a URL with no host before the path
 * (`postgres://sync@/db?host=/run/postgresql`), which that parser refuses, by reading it with a placeholder
 * host; so do these checks.
 */
export function parsableDatabaseUrl(raw: string): string {
  return URL.canParse(raw) ? raw : raw.replace('@/', '@___DUMMY___/');
}

/** Why node-postgres could not use `raw` (a postgres: URL, parsableDatabaseUrl's), or null. */
export function databaseUrlProblem(raw: string, pgport: string | undefined): UrlProblem | null {
  const parsed = new URL(raw);
  // Of a parameter given twice node-postgres takes the last.
  const param = (name: string) => parsed.searchParams.getAll(name).at(-1) ?? null;
  const problem = portProblem(param('port') || parsed.port, pgport);
  if (problem) return problem;
  const message = tlsProblem(param) ?? parseProblem(raw);
  return message ? { variable: 'DATABASE_URL', message } : null;
}

/** node-postgres takes the port from `?port=`, else from the URL, else from PGPORT, with parseInt. */
function portProblem(fromUrl: string, pgport: string | undefined): UrlProblem | null {
  const [variable, raw] = fromUrl ? (['DATABASE_URL', fromUrl] as const) : (['PGPORT', pgport] as const);
  if (!raw) return null;
  const port = Number.parseInt(raw, 10);
  return port >= 1 && port <= 65_535
    ? null
    : { variable, message: `port must be between 1 and 65535, got ${quoted(raw)}` };
}

function tlsProblem(param: (name: string) => string | null): string | null {
  const files = { sslcert: param('sslcert'), sslkey: param('sslkey'), sslrootcert: param('sslrootcert') };
  if (files.sslrootcert === 'system')
    return "sslrootcert=system is libpq's; node-postgres would read a file of that name: leave sslrootcert out for Node's trust store";
  const text: Partial<Record<keyof typeof files, string>> = {};
  for (const [name, file] of Object.entries(files) as [keyof typeof files, string | null][]) {
    // An empty one is none to node-postgres.
    if (!file) continue;
    try {
      if (!statSync(file).isFile()) return `${name} ${quoted(file)} is not a file`;
      text[name] = readFileSync(file, 'latin1');
    } catch (err) {
      return `${name} ${quoted(file)} cannot be read (${(err as NodeJS.ErrnoException).code})`;
    }
  }
  let key: ReturnType<typeof createPrivateKey> | undefined;
  if (text.sslkey !== undefined) {
    try {
      key = createPrivateKey(text.sslkey);
    } catch {
      // PKCS#8's header, or the traditional format's; OpenSSL's error codes for either vary by version.
      const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(text.sslkey);
      return `sslkey ${quoted(files.sslkey!)} ${encrypted ? 'is encrypted, and node-postgres cannot decrypt it: give it a decrypted copy' : 'is not a PEM private key'}`;
    }
  }
  if (text.sslcert !== undefined) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(text.sslcert);
    } catch {
      return `sslcert ${quoted(files.sslcert!)} is not a PEM certificate`;
    }
    if (key && !cert.checkPrivateKey(key))
      return `sslcert and sslkey are not a pair: the key is another certificate's`;
  }
  return null;
}

/** What node-postgres's own parser refuses: a database name that is not percent-encoding, say. */
function parseProblem(raw: string): string | null {
  try {
    parse(raw);
    return null;
  } catch (err) {
    // Its messages hold no part of the URL (a URIError says only "URI malformed").
    return err instanceof URIError
      ? 'a part of it is not valid percent-encoding (a % must be written %25)'
      : `node-postgres cannot use it: ${(err as Error).message}`;
  }
}
