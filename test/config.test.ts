import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, unknownVariables } from '../src/config.ts';

const base = {
  DATABASE_URL: 'postgres://u:pw@db:5432/x',
  WECOM_CORP_ID: 'ww1',
  WECOM_CORP_SECRET: 's3cret',
};

function problem(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig(base);
    expect(c.wecom).toMatchObject({
      apiBase: 'https://qyapi.weixin.qq.com',
      ratePerMinute: 9500,
      ratePerHour: 142_500,
      concurrency: 16,
      maxAttempts: 4,
    });
    expect(c.sync).toEqual({
      pageSize: 100,
      chainConcurrency: 4,
      details: 'changed',
      detailsMaxAgeHours: 168,
    });
  });

  it('reads every tunable', () => {
    const c = parseConfig({
      ...base,
      WECOM_API_BASE: 'http://127.0.0.1:9999/',
      WECOM_RATE_LIMIT_PER_MIN: '600',
      WECOM_RATE_LIMIT_PER_HOUR: '30000',
      WECOM_CONCURRENCY: '4',
      WECOM_TIMEOUT_MS: '2000',
      WECOM_MAX_ATTEMPTS: '3',
      WECOM_RATE_LIMIT_PAUSE_MS: '10',
      SYNC_PAGE_SIZE: '50',
      SYNC_CHAIN_CONCURRENCY: '2',
      SYNC_DETAILS: 'all',
      SYNC_DETAILS_MAX_AGE_HOURS: '1',
    });
    expect(c.wecom.apiBase).toBe('http://127.0.0.1:9999');
    expect(c.wecom).toMatchObject({
      ratePerMinute: 600,
      ratePerHour: 30_000,
      concurrency: 4,
      timeoutMs: 2000,
      maxAttempts: 3,
    });
    expect(c.sync).toEqual({ pageSize: 50, chainConcurrency: 2, details: 'all', detailsMaxAgeHours: 1 });
  });

  it.each<[Record<string, string>, string]>([
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL: must be a postgres:// or postgresql:// URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL: is not a valid URL'],
    [{ WECOM_CORP_SECRET: ' ' }, 'WECOM_CORP_SECRET: is required but not set'],
    [{ WECOM_CONCURRENCY: 'many' }, 'WECOM_CONCURRENCY: must be a whole number, got "many"'],
    [{ WECOM_CONCURRENCY: '0' }, 'WECOM_CONCURRENCY: must be between 1 and 512, got 0'],
    [{ WECOM_RATE_LIMIT_PER_HOUR: '0' }, 'WECOM_RATE_LIMIT_PER_HOUR: must be between 1 and 60000000, got 0'],
    [{ SYNC_PAGE_SIZE: '-5' }, 'SYNC_PAGE_SIZE: must be a whole number, got "-5"'],
    // A newline in the value stays escaped: the message is one line.
    [{ SYNC_PAGE_SIZE: '5\n6' }, 'SYNC_PAGE_SIZE: must be a whole number, got "5\\n6"'],
    [{ SYNC_DETAILS: 'some' }, 'SYNC_DETAILS: must be one of changed, all, none, got "some"'],
    [{ WECOM_API_BASE: 'ftp://x' }, 'WECOM_API_BASE: must be a https:// or http:// URL'],
    ...['https://user:pw@proxy.example', 'https://proxy.example/wecom?key=1', 'https://proxy.example/#x'].map(
      (base): [Record<string, string>, string] => [
        { WECOM_API_BASE: base },
        'WECOM_API_BASE: must have no user, password, query or fragment: none would be sent',
      ],
    ),
    [
      { DATABASE_URL: 'postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem' },
      'DATABASE_URL: sslrootcert "/nonexistent/ca.pem" cannot be read (ENOENT)',
    ],
    // node-postgres would throw these inside its socket, and the command would never end.
    [
      { DATABASE_URL: 'postgres://h/db?port=99999' },
      'DATABASE_URL: port must be between 1 and 65535, got "99999"',
    ],
    [
      { DATABASE_URL: 'postgres://h/db?port=abc' },
      'DATABASE_URL: port must be between 1 and 65535, got "abc"',
    ],
    [{ DATABASE_URL: 'postgres://h/db', PGPORT: '0' }, 'PGPORT: port must be between 1 and 65535, got "0"'],
    // Of a parameter given twice node-postgres takes the last: so does the check.
    [
      { DATABASE_URL: 'postgres://h/db?port=5432&port=99999' },
      'DATABASE_URL: port must be between 1 and 65535, got "99999"',
    ],
    [
      { DATABASE_URL: 'postgres://h/db?sslrootcert=/etc/hostname&sslrootcert=/nonexistent/ca.pem' },
      'DATABASE_URL: sslrootcert "/nonexistent/ca.pem" cannot be read (ENOENT)',
    ],
    [
      { DATABASE_URL: `postgres://h/db?sslrootcert=${tmpdir()}` },
      `DATABASE_URL: sslrootcert "${tmpdir()}" is not a file`,
    ],
    [
      { DATABASE_URL: 'postgres://h/db?sslmode=verify-full&sslrootcert=system' },
      "DATABASE_URL: sslrootcert=system is libpq's; node-postgres would read a file of that name: leave sslrootcert out for Node's trust store",
    ],
    [
      { DATABASE_URL: 'postgres://u:p%ffx@h/db' },
      'DATABASE_URL: a part of it is not valid percent-encoding (a % must be written %25)',
    ],
    [
      { DATABASE_URL: 'postgres://h/d%ffb' },
      'DATABASE_URL: a part of it is not valid percent-encoding (a % must be written %25)',
    ],
    [
      { PUSHGATEWAY_URL: 'http://u:pa%zzss@gw:9091' },
      'PUSHGATEWAY_URL: the user name or password is not valid percent-encoding (a % must be written %25)',
    ],
    ...[
      ['undici', 'undici'],
      ['http,fetch', 'fetch'],
      ['NET', 'net'],
      ['und*', 'undici'],
      ['*', 'undici'],
      ['stream', 'stream'],
    ].map(([value, name]): [Record<string, string>, string] => [
      { NODE_DEBUG: value! },
      `NODE_DEBUG: enables Node's ${name} debug output, which would print the corp secret or access tokens: unset it`,
    ]),
  ])('rejects %o with one line naming the variable', (override, message) => {
    expect(problem({ ...base, ...override })).toBe(message);
  });

  it("takes NODE_DEBUG's other names, which print no URL", () => {
    expect(() => parseConfig({ ...base, NODE_DEBUG: 'http,tls,https,net2,xundici' })).not.toThrow();
  });

  it('drops trailing slashes from PUSHGATEWAY_URL, so the push path has no empty segment', () => {
    expect(parseConfig({ ...base, PUSHGATEWAY_URL: 'http://gw:9091/prefix//' }).metrics.pushgatewayUrl).toBe(
      'http://gw:9091/prefix',
    );
  });

  it('uses the embedded PGlite under PGLITE_DIR when DATABASE_URL is not set, a server whenever it is, and refuses it empty', () => {
    for (const empty of ['', ' ']) {
      expect(problem({ ...base, DATABASE_URL: empty })).toBe(
        'DATABASE_URL: is set but empty; unset it for the embedded database',
      );
    }
    expect(
      parseConfig({ ...base, DATABASE_URL: undefined, PGLITE_DIR: '/var/lib/wcs' } as never).database,
    ).toEqual({
      driver: 'pglite',
      dir: '/var/lib/wcs',
    });
    expect(parseConfig({ ...base, DATABASE_URL: undefined } as never).database).toEqual({
      driver: 'pglite',
      dir: './data',
    });
    // A % that starts no escape is taken as it is by node-postgres: a password such as 50%off.
    expect(parseConfig({ ...base, DATABASE_URL: 'postgres://u:50%off@h/db' }).database).toMatchObject({
      driver: 'postgres',
    });
    // PGlite's own schemes would put the data elsewhere than the lock file, or only in memory.
    for (const dir of ['memory://x', 'file:///var/lib/wcs']) {
      expect(problem({ ...base, DATABASE_URL: undefined, PGLITE_DIR: dir } as never)).toBe(
        `PGLITE_DIR: must be a directory's path, not a URL: "${dir}"`,
      );
    }
    expect(parseConfig(base).database).toEqual({ driver: 'postgres', url: base.DATABASE_URL });
  });

  // A Unix socket: node-postgres takes a URL with no host before the path, and one with no authority at all.
  it.each([
    ['postgres://sync@/bi?host=/run/postgresql', 'postgres://sync@/bi?port=99999'],
    ['postgres:///bi?host=/run/postgresql', 'postgres:///bi?host=/run/postgresql&port=99999'],
  ])('takes %s and still checks it', (socket, badPort) => {
    expect(parseConfig({ ...base, DATABASE_URL: socket }).database).toEqual({
      driver: 'postgres',
      url: socket,
    });
    expect(problem({ ...base, DATABASE_URL: badPort })).toBe(
      'DATABASE_URL: port must be between 1 and 65535, got "99999"',
    );
  });

  it('refuses a socket URL of another scheme', () => {
    expect(problem({ ...base, DATABASE_URL: 'mysql://sync@/bi' })).toBe(
      'DATABASE_URL: must be a postgres:// or postgresql:// URL',
    );
  });

  it('never puts the database password or the secret in a message', () => {
    const msg = problem({ ...base, WECOM_CONCURRENCY: 'x' });
    expect(msg).not.toContain('pw');
    expect(msg).not.toContain('s3cret');
  });

  describe('a TLS key node-postgres cannot use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wcs-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const plain = file('plain.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const encrypted = file(
      'encrypted.pem',
      privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString(),
    );
    const garbage = file('garbage.pem', 'not a key');
    const withKey = (key: string) => ({
      ...base,
      DATABASE_URL: `postgres://h/db?sslmode=verify-full&sslkey=${key}`,
    });

    it('with a certificate that is not one, or not its pair, is refused in one line', () => {
      const certFor = (name: string) => {
        const key = join(dir, `${name}.key`);
        const cert = join(dir, `${name}.crt`);
        execFileSync(
          'openssl',
          ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
            '-keyout',
            key,
            '-out',
            cert,
            '-days',
            '1',
            '-subj',
            `/CN=${name}`,
          ]),
          { stdio: 'ignore' },
        );
        return { key, cert };
      };
      const [a, b] = [certFor('a'), certFor('b')];
      const url = (cert: string, key: string) => ({
        ...base,
        DATABASE_URL: `postgres://h/db?sslmode=verify-full&sslcert=${cert}&sslkey=${key}`,
      });
      expect(problem(url(garbage, a.key))).toBe(
        `DATABASE_URL: sslcert "${garbage}" is not a PEM certificate`,
      );
      expect(problem(url(b.cert, a.key))).toBe(
        "DATABASE_URL: sslcert and sslkey are not a pair: the key is another certificate's",
      );
      expect(parseConfig(url(a.cert, a.key)).database).toMatchObject({ driver: 'postgres' });
      // An empty parameter names no file, to node-postgres as here.
      expect(parseConfig(url('', '')).database).toMatchObject({ driver: 'postgres' });
    });

    it('is refused in one line naming the file, and a plain key is taken', () => {
      expect(problem(withKey(encrypted))).toBe(
        `DATABASE_URL: sslkey "${encrypted}" is encrypted, and node-postgres cannot decrypt it: give it a decrypted copy`,
      );
      expect(problem(withKey(garbage))).toBe(`DATABASE_URL: sslkey "${garbage}" is not a PEM private key`);
      expect(parseConfig(withKey(plain)).database).toEqual({
        driver: 'postgres',
        url: withKey(plain).DATABASE_URL,
      });
    });
  });
});

describe('unknownVariables', () => {
  it('names what looks like ours and is not, with what it probably meant', () => {
    expect(
      unknownVariables({
        ...base,
        WECOM_CONCURENCY: '4',
        WECOM_RATE_LIMIT_PER_MINUTE: '600',
        PGLITE_DIRECTORY: '/x',
        SYNC_SOMETHING_ELSE_ENTIRELY: '1',
        SYNC_TZ: 'UTC',
        // Not ours: another program's, and what Kubernetes sets for a Service named wecom-sync.
        LOGLEVEL: 'debug',
        METRICS_ENABLED: 'true',
        WECOM_SYNC_SERVICE_HOST: '10.0.0.1',
        WECOM_SYNC_PORT_9464_TCP_ADDR: '10.0.0.1',
      }),
    ).toEqual([
      { name: 'PGLITE_DIRECTORY', meant: 'PGLITE_DIR' },
      { name: 'SYNC_SOMETHING_ELSE_ENTIRELY', meant: null },
      { name: 'WECOM_CONCURENCY', meant: 'WECOM_CONCURRENCY' },
      { name: 'WECOM_RATE_LIMIT_PER_MINUTE', meant: 'WECOM_RATE_LIMIT_PER_MIN' },
    ]);
  });
});
