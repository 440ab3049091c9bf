// Neither the secret nor any access token may surface in an error (message, stack, properties, cause)
// or in the stats, whatever the server does — including echoing them back.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { WecomClient } from '../../src/wecom/client.ts';
import { Redactor } from '../../src/wecom/redact.ts';
import {
  type Answer,
  errcode,
  type FakeWecom,
  type Script,
  SECRET,
  startWecom,
  testClient,
  tokenAnswer,
} from './helpers.ts';

const TOKEN = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ECHO_TOKEN = (code: number): Answer => errcode(code, `access_token ${TOKEN} rejected`);
const forever = (answer: Answer) => (): Answer => answer;

const scenarios: Array<[string, Script]> = [
  ['gettoken 40001 echoing the secret', { gettoken: forever(errcode(40001, `invalid secret ${SECRET}`)) }],
  [
    'gettoken 48002 echoing the secret',
    { gettoken: forever(errcode(48002, `api forbidden for secret ${SECRET}`)) },
  ],
  ['gettoken -1 echoing the secret, until attempts run out', { gettoken: forever(errcode(-1, SECRET)) }],
  ['gettoken dropping the connection', { gettoken: forever({ drop: true }) }],
  ['gettoken timing out', { gettoken: forever({ json: {}, delayMs: 1_000 }) }],
  ['gettoken HTTP 502', { gettoken: forever({ status: 502 }) }],
  [
    'gettoken truncated',
    { gettoken: forever({ truncate: JSON.stringify({ errcode: 0, access_token: TOKEN }) }) },
  ],
  ['gettoken not JSON', { gettoken: forever({ text: `<p>${SECRET}</p>` }) }],
  [
    'gettoken malformed token',
    { gettoken: forever({ json: { errcode: 0, access_token: 42, expires_in: 7200 } }) },
  ],
  [
    'gettoken malformed expires_in',
    { gettoken: forever({ json: { errcode: 0, access_token: TOKEN, expires_in: 'x' } }) },
  ],
  // errmsg is cut at 500 characters: a cut through the secret or a token would leave its start unscrubbed.
  [
    'gettoken 40001 echoing the secret across the cut of a long errmsg',
    { gettoken: forever(errcode(40001, `${'x'.repeat(490)} ${SECRET}`)) },
  ],
  [
    'a call answering 60011 echoing the token across the cut of a long errmsg',
    {
      gettoken: () => tokenAnswer(TOKEN),
      get_chain_list: forever(errcode(60011, `${'x'.repeat(480)} ${TOKEN}`)),
    },
  ],
  [
    'a call answering 60011 echoing the token',
    { gettoken: () => tokenAnswer(TOKEN), get_chain_list: forever(ECHO_TOKEN(60011)) },
  ],
  [
    'a call answering 40014 twice echoing the token',
    { gettoken: () => tokenAnswer(TOKEN), get_chain_list: forever(ECHO_TOKEN(40014)) },
  ],
  [
    'a call answering 45033 echoing the token',
    { gettoken: () => tokenAnswer(TOKEN), get_chain_list: forever(ECHO_TOKEN(45033)) },
  ],
  [
    'a call dropping the connection',
    { gettoken: () => tokenAnswer(TOKEN), get_chain_list: forever({ drop: true }) },
  ],
  ['a call timing out', { gettoken: () => tokenAnswer(TOKEN), get_chain_list: forever({ stallBody: true }) }],
  [
    'a call answering HTTP 500',
    { gettoken: () => tokenAnswer(TOKEN), get_chain_list: forever({ status: 500 }) },
  ],
];

/** Everything a logger or the run record could pick up from an error. */
function exposure(error: unknown): string {
  const e = error as Error;
  return [String(e), e.message, e.stack, JSON.stringify(e), inspect(e, { depth: 10, showHidden: true })].join(
    '\n',
  );
}

describe('no secret or token in errors or stats', () => {
  let server: FakeWecom | undefined;
  let client: WecomClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  it.each(scenarios)('%s', async (_name, script) => {
    server = await startWecom(script);
    client = testClient(server, { timeoutMs: 100, maxAttempts: 2 });
    const error = await client.getChainList().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toHaveProperty('endpoint'); // a Wecom*Error, not a raw undici one
    const seen = exposure(error);
    // Not even their start, as a message cut through them would leave.
    expect(seen).not.toContain(SECRET.slice(0, 8));
    expect(seen).not.toContain(TOKEN.slice(0, 12));
    expect(seen).not.toContain('corpsecret=');
    expect(seen).not.toContain('access_token=');
    expect(seen).not.toContain(server.url); // no URL at all
    const stats = JSON.stringify(client.stats());
    expect(stats).not.toContain(SECRET);
    expect(stats).not.toContain(TOKEN);
  });

  it('the server really did receive the secret and token (the scan above is not vacuous)', async () => {
    server = await startWecom({
      gettoken: () => tokenAnswer(TOKEN),
      get_chain_list: forever(ECHO_TOKEN(60011)),
    });
    client = testClient(server);
    const error = await client.getChainList().catch((e: unknown) => e);
    expect(server.requests[0]!.query.get('corpsecret')).toBe(SECRET);
    expect(server.requests[1]!.query.get('access_token')).toBe(TOKEN);
    expect((error as Error).message).toBe(
      '/cgi-bin/corpgroup/corp/get_chain_list: WeCom errcode 60011: access_token [redacted] rejected',
    );
  });
});

describe('Redactor', () => {
  it('scrubs the secret and recent tokens, raw and URL-encoded', () => {
    const redactor = new Redactor('a+b/c=');
    redactor.addToken('T1');
    expect(redactor.scrub('x a+b/c= y a%2Bb%2Fc%3D z T1')).toBe('x [redacted] y [redacted] z [redacted]');
  });

  it('scrubs a secret echoed inside a JSON string, however the server escaped it', () => {
    const redactor = new Redactor('S"q\\/é😀');
    // As JSON.stringify writes it; with non-ASCII as \u escapes; and with / as \/, as PHP writes it.
    for (const echoed of [
      String.raw`{"corpsecret":"S\"q\\/é😀"}`,
      String.raw`{"corpsecret":"S\"q\\/\u00e9\ud83d\ude00"}`,
      String.raw`{"corpsecret":"S\"q\\\/\u00e9\ud83d\ude00"}`,
      String.raw`{"corpsecret":"S\"q\\/\u00E9\uD83D\uDE00"}`,
    ]) {
      expect(redactor.scrub(`errmsg: ${echoed}`)).toBe('errmsg: {"corpsecret":"[redacted]"}');
    }
  });

  it('scrubs ASCII escaped as \\u00XX and percent-encoding in lower case or with + for a space', () => {
    const redactor = new Redactor('a<b>&c+d= e');
    for (const echoed of [
      String.raw`a\u003cb\u003e\u0026c+d= e`, // Go's encoding/json
      String.raw`a<b>&c\u002Bd\u003D e`, // .NET's System.Text.Json
      String.raw`\u0061\u003C\u0062\u003E\u0026\u0063\u002b\u0064\u003d\u0020\u0065`,
      'a%3cb%3e%26c%2bd%3d+e', // percent-encoded in lower case, a space as +
    ]) {
      expect(redactor.scrub(`errmsg: ${echoed}.`)).toBe('errmsg: [redacted].');
    }
  });

  it('scrubs backslashes raw and JSON-escaped, and never backtracks over a run of them', () => {
    // A token a hostile server handed out, and an errmsg with a run of backslashes one short of it: a pattern
    // that let one backslash of the token match one or two of the text tried every way to split the run
    // (about 10^12 here) before it gave up.
    const token = '\\'.repeat(60);
    const redactor = new Redactor('');
    redactor.addToken(token);
    const short = `${'\\'.repeat(59)}!${'\\'.repeat(59)}`;
    expect(redactor.scrub(short)).toBe(short);
    expect(redactor.scrub(`raw ${token}, json "${token.replaceAll('\\', '\\\\')}"`)).toBe(
      'raw [redacted], json "[redacted]"',
    );
  });

  it('keeps only the most recent tokens, and an empty one scrubs nothing', () => {
    const redactor = new Redactor('');
    for (let i = 0; i < 10; i++) redactor.addToken(`T${i}x`);
    redactor.addToken('');
    expect(redactor.scrub('T0x T1x T2x T9x')).toBe('T0x T1x [redacted] [redacted]');
  });
});
