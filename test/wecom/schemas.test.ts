import { afterEach, describe, expect, it } from 'vitest';
import type { WecomClient } from '../../src/wecom/client.ts';
import { WecomResponseError } from '../../src/wecom/errors.ts';
import {
  chainListSchema,
  corpDetailSchema,
  corpPageSchema,
  groupListSchema,
  parseBody,
  tokenSchema,
} from '../../src/wecom/schemas.ts';
import { calls, type FakeWecom, ok, startWecom, testClient } from './helpers.ts';

const joined = (i: number, extra: Record<string, unknown> = {}) => ({
  groupid: 2,
  corpid: `ww${i}`,
  corp_name: `corp ${i}`,
  custom_id: `c${i}`,
  invite_userid: 'zhangsan',
  is_joined: 1,
  ...extra,
});
const pending = (i: number, extra: Record<string, unknown> = {}) => ({
  groupid: 3,
  pending_corpid: `wp${i}`,
  corp_name: `pending ${i}`,
  is_joined: 0,
  ...extra,
});
const page = (corps: unknown[], more: Record<string, unknown> = { has_more: false }) => ({
  errcode: 0,
  errmsg: 'ok',
  group_corps: corps,
  ...more,
});

function problem(fn: () => unknown): WecomResponseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WecomResponseError);
    return error as WecomResponseError;
  }
  throw new Error('expected a WecomResponseError');
}

const listPage = (body: unknown) => parseBody('get_chain_corpinfo_list', corpPageSchema, body);

describe('get_chain_corpinfo_list', () => {
  it('maps joined and pending corps, with defaults for absent optional fields', () => {
    expect(listPage(page([joined(1), pending(2)], { has_more: true, next_cursor: 'n1', extra: 1 }))).toEqual({
      corps: [
        {
          isJoined: true,
          corpid: 'ww1',
          corpName: 'corp 1',
          customId: 'c1',
          groupid: 2,
          inviteUserid: 'zhangsan',
        },
        {
          isJoined: false,
          pendingCorpid: 'wp2',
          corpName: 'pending 2',
          customId: '',
          groupid: 3,
          inviteUserid: null,
        },
      ],
      hasMore: true,
      nextCursor: 'n1',
    });
  });

  it.each([
    [1, true],
    [0, false],
    [true, true],
    [false, false],
  ])('accepts is_joined %j', (flag, isJoined) => {
    const corp = isJoined ? joined(1, { is_joined: flag }) : pending(1, { is_joined: flag });
    expect(listPage(page([corp])).corps[0]!.isJoined).toBe(isJoined);
  });

  it("accepts the API page's example row, which carries both ids: is_joined says which one keys it", () => {
    const example = {
      groupid: 2,
      corpid: 'wwxxxx',
      corp_name: '美馨粮油公司',
      custom_id: 'custom_id',
      invite_userid: 'zhangsan',
      pending_corpid: 'wwxxxx',
      is_joined: 1,
    };
    const { corps } = listPage(page([example, { ...example, corpid: 'wwyyyy', is_joined: 0 }]));
    expect(corps).toEqual([
      expect.objectContaining({ isJoined: true, corpid: 'wwxxxx' }),
      expect.objectContaining({ isJoined: false, pendingCorpid: 'wwxxxx' }),
    ]);
    expect(corps[0]).not.toHaveProperty('pendingCorpid');
    expect(corps[1]).not.toHaveProperty('corpid');
  });

  it('accepts an absent next_cursor on the last page, and an absent group_corps', () => {
    expect(listPage({ errcode: 0, has_more: false })).toEqual({ corps: [], hasMore: false, nextCursor: '' });
  });

  it.each<[string, unknown, string, RegExp]>([
    [
      'a wrong type',
      page([joined(0), joined(1), joined(2), joined(3, { corp_name: 42 })]),
      'group_corps[3].corp_name',
      /string/,
    ],
    ['is_joined 2', page([joined(0, { is_joined: 2 })]), 'group_corps[0].is_joined', /boolean, 0 or 1/],
    ['is_joined "1"', page([joined(0, { is_joined: '1' })]), 'group_corps[0].is_joined', /boolean, 0 or 1/],
    ['a joined corp without corpid', page([joined(0, { corpid: '' })]), 'group_corps[0].corpid', /required/],
    [
      'a pending corp without pending_corpid',
      page([pending(0, { pending_corpid: undefined })]),
      'group_corps[0].pending_corpid',
      /required/,
    ],
    [
      'a corpid over 64 bytes',
      page([joined(0, { corpid: '企'.repeat(22) })]),
      'group_corps[0].corpid',
      /64 bytes/,
    ],
    [
      'a pending_corpid over 1,024 bytes, more than can be stored',
      page([pending(0, { pending_corpid: 'p'.repeat(1_025) })]),
      'group_corps[0].pending_corpid',
      /longer than 1024 bytes/,
    ],
    [
      "a corpid that reads as a pending corp's key",
      page([joined(0, { corpid: 'pending:p0' })]),
      'group_corps[0].corpid',
      /starts with "pending:"/,
    ],
    ['has_more without next_cursor', page([], { has_more: true }), 'next_cursor', /required/],
    ['a missing has_more', page([], {}), 'has_more', /boolean, 0 or 1/],
    ['a fractional groupid', page([joined(0, { groupid: 1.5 })]), 'group_corps[0].groupid', /int/],
    // PostgreSQL cannot store it: let through, it would fail the merge as a database error, stopping the run.
    ['a NUL in a name', page([joined(0, { corp_name: 'a\u0000b' })]), 'group_corps[0].corp_name', /NUL/],
    ['a NUL in a custom_id', page([joined(0, { custom_id: '\u0000' })]), 'group_corps[0].custom_id', /NUL/],
  ])('rejects %s, naming the field', (_name, body, field, message) => {
    const error = problem(() => listPage(body));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(
      new RegExp(
        `^/cgi-bin/corpgroup/corp/get_chain_corpinfo_list: invalid response at ${field.replace(/[[\].]/g, '\\$&')}: `,
      ),
    );
    expect(error.message).toMatch(message);
  });

  it('accepts a corpid of exactly 64 bytes', () => {
    expect(listPage(page([joined(0, { corpid: 'w'.repeat(64) })])).corps).toHaveLength(1);
  });

  it('accepts a pending_corpid of 1,024 bytes: WeCom bounds only the corpid', () => {
    const id = `${'企'.repeat(341)}p`;
    expect(Buffer.byteLength(id)).toBe(1_024);
    const corps = listPage(page([pending(0, { pending_corpid: id })])).corps;
    expect(corps).toMatchObject([{ isJoined: false, pendingCorpid: id }]);
  });
});

describe('other endpoints', () => {
  it('get_chain_group: order in [0, 2^32)', () => {
    const group = { groupid: 2, group_name: '一级经销商', parentid: 1, order: 2 ** 32 - 1 };
    expect(parseBody('get_chain_group', groupListSchema, { errcode: 0, groups: [group] })).toEqual([
      { groupid: 2, groupName: '一级经销商', parentid: 1, order: 2 ** 32 - 1 },
    ]);
    for (const order of [2 ** 32, -1, 0.5]) {
      const error = problem(() =>
        parseBody('get_chain_group', groupListSchema, { groups: [{ ...group, order }] }),
      );
      expect(error.field).toBe('groups[0].order');
    }
  });

  it('get_chain_corpinfo: is_joined as boolean or 0/1, absent qualification_status and custom_id', () => {
    const detail = (extra: Record<string, unknown>) =>
      parseBody('get_chain_corpinfo', corpDetailSchema, {
        corp_name: 'x',
        groupid: 1,
        is_joined: false,
        ...extra,
      });
    expect(detail({})).toEqual({
      corpName: 'x',
      qualificationStatus: null,
      customId: '',
      groupid: 1,
      isJoined: false,
    });
    expect(detail({ is_joined: 1, qualification_status: 3, custom_id: 'c' })).toMatchObject({
      isJoined: true,
      qualificationStatus: 3,
      customId: 'c',
    });
    expect(problem(() => detail({ qualification_status: 'yes' })).field).toBe('qualification_status');
  });

  it('get_chain_list and gettoken', () => {
    expect(
      parseBody('get_chain_list', chainListSchema, { chains: [{ chain_id: 'a', chain_name: 'A' }] }),
    ).toEqual([{ chainId: 'a', chainName: 'A' }]);
    expect(
      problem(() => parseBody('get_chain_list', chainListSchema, { chains: [{ chain_name: 'A' }] })).field,
    ).toBe('chains[0].chain_id');
    // Every chain left out is removed: an absent list fails instead; an empty one is no chain.
    expect(parseBody('get_chain_list', chainListSchema, { chains: [] })).toEqual([]);
    for (const body of [{}, { chains: null }]) {
      expect(problem(() => parseBody('get_chain_list', chainListSchema, body)).field).toBe('chains');
    }
    expect(parseBody('gettoken', tokenSchema, { access_token: 't', expires_in: 7200 })).toEqual({
      token: 't',
      expiresInMs: 7_200_000,
    });
    expect(problem(() => parseBody('gettoken', tokenSchema, { expires_in: 7200 })).field).toBe(
      'access_token',
    );
  });
});

describe('through the client', () => {
  let server: FakeWecom | undefined;
  let client: WecomClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  it('an invalid errcode-0 answer is a WecomResponseError naming endpoint and field, not retried', async () => {
    server = await startWecom({
      get_chain_corpinfo_list: () => ({
        json: page([joined(0), joined(1), joined(2), joined(3, { corp_name: null })]),
      }),
    });
    client = testClient(server);
    const error = await client
      .listCorps({ chainId: 'c', groupid: 2, cursor: '', limit: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WecomResponseError);
    expect((error as Error).message).toContain('get_chain_corpinfo_list');
    expect((error as Error).message).toContain('group_corps[3].corp_name');
    expect(calls(server, 'get_chain_corpinfo_list')).toHaveLength(1);
    expect(client.stats().errors.get_chain_corpinfo_list).toEqual({ invalid_response: 1 });
  });

  it('a body without a numeric errcode is not a WeCom answer', async () => {
    server = await startWecom({
      get_chain_list: () => ({ json: [1, 2] }),
      get_chain_group: () => ok({ errcode: '0' }),
    });
    client = testClient(server);
    await expect(client.getChainList()).rejects.toMatchObject({ name: 'WecomResponseError', field: '' });
    await expect(client.getChainGroups('c')).rejects.toMatchObject({
      name: 'WecomResponseError',
      field: 'errcode',
    });
  });
});
