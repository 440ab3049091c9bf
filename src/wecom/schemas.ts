// What a successful (errcode 0) answer of each endpoint must look like, and its mapping onto types.ts.
// Built once at module load: a run validates up to a million corps. Unknown fields are ignored, as WeCom
// adds fields without notice.
import * as z from 'zod';
import { WecomResponseError } from './errors.ts';
import type { Failure } from './retry.ts';
import {
  type Chain,
  type CorpDetail,
  type CorpPage,
  type Endpoint,
  type Group,
  type ListedCorp,
  MAX_STORED_ID_BYTES,
  PENDING_KEY_PREFIX,
} from './types.ts';

/** WeCom's documented bound for a corpid; it sets none for a pending_corpid, which only storage bounds. */
const MAX_CORPID_BYTES = 64;

const groupid = z.int().nonnegative();

// is_joined is documented as 0/1 in get_chain_corpinfo_list and as a boolean in get_chain_corpinfo;
// either may change, so every flag accepts both.
const flag = z
  .union([z.boolean(), z.literal([0, 1])], { error: 'expected a boolean, 0 or 1' })
  .transform((v) => v === true || v === 1);

/**
 * Text to be stored, and compared with what is stored. PostgreSQL cannot store a NUL character: let through,
 * one would fail the chain's merge as a database error, which stops the whole run, on every run, as long as
 * WeCom sends it. Nor half a surrogate pair (valid in JSON, not in UTF-8): that one is replaced with U+FFFD,
 * as encoding it for PostgreSQL would, so that an id read back from the tables is the one staged.
 */
const text = z
  .string()
  .regex(/^[^\0]*$/, 'contains a NUL character, which PostgreSQL cannot store')
  .overwrite((s) => s.toWellFormed());

/** Absent, null or '' all mean "not set". */
const optionalText = text.nullish();

/** The list fields are omitted by some WeCom APIs when empty; treat that as empty rather than fail. */
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((items) => items ?? []);

export const tokenSchema = z
  .object({ access_token: z.string().min(1), expires_in: z.int().positive() })
  .transform((r) => ({ token: r.access_token, expiresInMs: r.expires_in * 1000 }));

// Except the chain list: every chain it leaves out is marked removed, with its groups and corps. A body
// without it (a proxy's truncated answer, say) fails the run instead of emptying the tables; an empty
// array is still an empty list.
export const chainListSchema = z
  .object({
    chains: z.array(z.object({ chain_id: text.min(1), chain_name: text }), {
      error: 'expected an array (a missing chain list would remove every chain)',
    }),
  })
  .transform((r): Chain[] => r.chains.map((c) => ({ chainId: c.chain_id, chainName: c.chain_name })));

export const groupListSchema = z
  .object({
    groups: list(
      z.object({
        groupid,
        group_name: text,
        parentid: groupid,
        order: z
          .int()
          .nonnegative()
          .lt(2 ** 32),
      }),
    ),
  })
  .transform((r): Group[] =>
    r.groups.map((g) => ({
      groupid: g.groupid,
      groupName: g.group_name,
      parentid: g.parentid,
      order: g.order,
    })),
  );

const listedCorp = z
  .object({
    groupid,
    corpid: optionalText,
    pending_corpid: optionalText,
    corp_name: text,
    custom_id: optionalText,
    invite_userid: optionalText,
    is_joined: flag,
  })
  .transform((c, ctx): ListedCorp => {
    const common = {
      corpName: c.corp_name,
      customId: c.custom_id ?? '',
      groupid: c.groupid,
      inviteUserid: c.invite_userid || null,
    };
    // The id is_joined names keys the corp. The other one is ignored: the API page's own example row
    // carries both, so WeCom may too, and refusing it would fail the chain on every run.
    const wanted = c.is_joined ? 'corpid' : 'pending_corpid';
    const value = c[wanted];
    const maxBytes = c.is_joined ? MAX_CORPID_BYTES : MAX_STORED_ID_BYTES;
    const problem = !value
      ? `required when is_joined is ${c.is_joined}`
      : Buffer.byteLength(value, 'utf8') > maxBytes
        ? `longer than ${maxBytes} bytes`
        : c.is_joined && value.startsWith(PENDING_KEY_PREFIX)
          ? `starts with "${PENDING_KEY_PREFIX}", as a pending corp's key does`
          : null;
    if (problem !== null) {
      ctx.addIssue({ code: 'custom', message: problem, path: [wanted], input: c });
      return z.NEVER;
    }
    return c.is_joined
      ? { ...common, isJoined: true, corpid: value! }
      : { ...common, isJoined: false, pendingCorpid: value! };
  });

export const corpPageSchema = z
  .object({
    group_corps: list(listedCorp),
    has_more: flag,
    // Never stored, only sent back: as WeCom gave it.
    next_cursor: z.string().nullish(),
  })
  .transform((r, ctx): CorpPage => {
    if (r.has_more && !r.next_cursor) {
      ctx.addIssue({
        code: 'custom',
        message: 'required when has_more is true',
        path: ['next_cursor'],
        input: r,
      });
      return z.NEVER;
    }
    return { corps: r.group_corps, hasMore: r.has_more, nextCursor: r.next_cursor ?? '' };
  });

export const corpDetailSchema = z
  .object({
    corp_name: text,
    // Stored as a smallint; values beyond the documented 1..3 are kept rather than failing the run.
    qualification_status: z.int().min(0).max(32767).nullish(),
    custom_id: optionalText,
    groupid,
    is_joined: flag,
  })
  .transform(
    (r): CorpDetail => ({
      corpName: r.corp_name,
      qualificationStatus: r.qualification_status ?? null,
      customId: r.custom_id ?? '',
      groupid: r.groupid,
      isJoined: r.is_joined,
    }),
  );

/**
 * Reads WeCom's envelope: null for errcode 0, a Failure for any other code. A body that is not an object
 * with a numeric errcode is not a WeCom answer at all.
 */
export function envelopeFailure(endpoint: Endpoint, body: unknown): Failure | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WecomResponseError(endpoint, '', 'expected a JSON object');
  }
  const { errcode, errmsg } = body as { errcode?: unknown; errmsg?: unknown };
  if (typeof errcode !== 'number' || !Number.isInteger(errcode)) {
    throw new WecomResponseError(endpoint, 'errcode', 'expected an integer');
  }
  if (errcode === 0) return null;
  return { kind: 'errcode', errcode, errmsg: typeof errmsg === 'string' ? errmsg : '' };
}

const MAX_ERRMSG_CHARS = 500;

/**
 * An errmsg ends up in logs and in the run's record: one PostgreSQL cannot store (a NUL, half a surrogate
 * pair) would fail the write of the run's end and leave it `running`; a huge one would flood both. Cut only
 * once the secret and tokens are scrubbed from it: a cut through one would leave its first part unscrubbed.
 */
export function storableMessage(errmsg: string): string {
  const clean = errmsg.replaceAll('\0', '\uFFFD').toWellFormed();
  return clean.length > MAX_ERRMSG_CHARS ? `${clean.slice(0, MAX_ERRMSG_CHARS).toWellFormed()}…` : clean;
}

/** Validates an errcode-0 body; a mismatch names the first offending field, e.g. `group_corps[3].corp_name`. */
export function parseBody<T>(endpoint: Endpoint, schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new WecomResponseError(endpoint, formatPath(issue?.path ?? []), issue?.message ?? 'invalid');
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
