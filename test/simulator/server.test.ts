import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIM_ENDPOINT_NAMES,
  SIM_ENDPOINTS,
  type SimChain,
  SimNetwork,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.ts';
import { ENDPOINT_PATHS } from '../../src/wecom/types.ts';
import { until } from '../wecom/helpers.ts';
import { CORP_ID, call, FakeClock, getToken, keyOfRow, listGroup, SECRET } from './helpers.ts';

const open: Simulator[] = [];
async function start(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const network =
    options.network ??
    SimNetwork.generate({ seed: 5, chains: 3, groups: 40, corps: 900, pendingRatio: 0.25, maxDepth: 4 });
  const sim = await startSimulator({ corpId: CORP_ID, corpSecret: SECRET, ...options, network });
  open.push(sim);
  return sim;
}
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

function firstChain(sim: Simulator): SimChain {
  return [...sim.network.chains.values()][0]!;
}

it('serves exactly the paths the client calls', () => {
  expect(Object.fromEntries(SIM_ENDPOINT_NAMES.map((n) => [n, SIM_ENDPOINTS[n].path]))).toEqual(
    ENDPOINT_PATHS,
  );
});

describe('access tokens', () => {
  it('checks corpid and secret, and reuses the token while it is valid', async () => {
    const clock = new FakeClock();
    const sim = await start({ now: clock.now, tokenTtlSeconds: 100 });
    const get = (corpid: string, corpsecret: string) =>
      call(sim, 'gettoken', { query: { corpid, corpsecret } });
    expect((await get(CORP_ID, 'wrong')).json.errcode).toBe(40001);
    expect((await get('wwsomeoneelse', SECRET)).json.errcode).toBe(40013);
    expect((await get('', SECRET)).json.errcode).toBe(41002);
    expect((await get(CORP_ID, '')).json.errcode).toBe(41004);
    const first = (await get(CORP_ID, SECRET)).json;
    expect(first).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 100 });
    expect(first.access_token).toMatch(/^[A-Za-z0-9_-]{32,512}$/);
    clock.advance(40_000);
    expect((await get(CORP_ID, SECRET)).json).toMatchObject({
      access_token: first.access_token,
      expires_in: 60,
    });
    clock.advance(60_000);
    const renewed = (await get(CORP_ID, SECRET)).json;
    expect(renewed.access_token).not.toBe(first.access_token);
    expect(sim.calls.gettoken).toBe(7);
  });

  it('answers 41001 without a token, 40014 for an unknown or revoked one, 42001 once expired', async () => {
    const clock = new FakeClock();
    const sim = await start({ now: clock.now, tokenTtlSeconds: 60 });
    expect((await call(sim, 'get_chain_list')).json.errcode).toBe(41001);
    expect((await call(sim, 'get_chain_list', { token: 'made-up' })).json.errcode).toBe(40014);
    const token = await getToken(sim);
    expect((await call(sim, 'get_chain_list', { token })).json.errcode).toBe(0);
    clock.advance(60_000);
    const expired = await call(sim, 'get_chain_list', { token });
    expect(expired.json.errcode).toBe(42001);
    expect(expired.headers.get('error-code')).toBe('42001');
    expect(expired.json.errmsg).toMatch(
      /^access_token expired, hint: \[.+\], from ip: .+, more info at https:/,
    );
    const fresh = await getToken(sim);
    sim.revokeTokens();
    expect((await call(sim, 'get_chain_list', { token: fresh })).json.errcode).toBe(40014);
    const after = await getToken(sim);
    expect(after).not.toBe(fresh);
    expect((await call(sim, 'get_chain_list', { token: after })).json.errcode).toBe(0);
  });
});

describe('chain endpoints', () => {
  let sim: Simulator;
  let token: string;
  beforeAll(async () => {
    sim = await start({ maxPageSize: 5 });
    token = await getToken(sim);
  });

  it('lists chains and groups as documented (root group unlisted, one group by id)', async () => {
    const chains = (await call(sim, 'get_chain_list', { token })).json;
    expect(chains.errcode).toBe(0);
    expect(chains.chains).toEqual(
      [...sim.network.chains.values()].map((c) => ({ chain_id: c.chainId, chain_name: c.chainName })),
    );
    const chain = firstChain(sim);
    const groups = (await call(sim, 'get_chain_group', { token, body: { chain_id: chain.chainId } })).json;
    expect(groups.groups).toHaveLength(chain.groups.size);
    expect(groups.groups.some((g: { groupid: number }) => g.groupid === 1)).toBe(false);
    const some = [...chain.groups.values()][2]!;
    const one = (
      await call(sim, 'get_chain_group', { token, body: { chain_id: chain.chainId, groupid: some.groupid } })
    ).json;
    expect(one.groups).toEqual([
      { groupid: some.groupid, group_name: some.groupName, parentid: some.parentid, order: some.order },
    ]);
    const missing = await call(sim, 'get_chain_group', {
      token,
      body: { chain_id: chain.chainId, groupid: 99_999 },
    });
    expect(missing.json.errcode).toBe(60003);
    expect((await call(sim, 'get_chain_group', { token, body: { chain_id: 'Chnope' } })).json.errcode).toBe(
      40058,
    );
  });

  it('pages through every corp of every group exactly once, never more than maxPageSize a page', async () => {
    const chain = firstChain(sim);
    const seen: string[] = [];
    let longest = 0;
    for (const groupid of [1, ...chain.groups.keys()]) {
      const { rows, pageSizes } = await listGroup(sim, token, {
        chain_id: chain.chainId,
        groupid,
        need_pending: true,
        limit: 7,
      });
      longest = Math.max(longest, rows.length);
      expect(Math.max(0, ...pageSizes)).toBeLessThanOrEqual(5);
      for (const row of rows) {
        expect(row.groupid).toBe(groupid);
        expect(row.is_joined).toBe(row.corpid ? 1 : 0);
        expect(row.corpid === undefined).toBe(row.pending_corpid !== undefined);
        seen.push(keyOfRow(row));
      }
    }
    expect(longest).toBeGreaterThan(10); // some group really needed several pages
    expect(seen.length).toBe(chain.corps.size);
    expect(new Set(seen)).toEqual(new Set(chain.corps.keys()));
  });

  it('returns everything at once without limit, and hides pending corps unless asked', async () => {
    const chain = firstChain(sim);
    const inRoot = [...chain.corps.values()].filter((c) => c.groupid === 1);
    const all = (
      await call(sim, 'get_chain_corpinfo_list', {
        token,
        body: { chain_id: chain.chainId, need_pending: true },
      })
    ).json;
    expect(all).toMatchObject({ errcode: 0, has_more: false, next_cursor: '' });
    expect(all.group_corps).toHaveLength(inRoot.length);
    const joined = (await call(sim, 'get_chain_corpinfo_list', { token, body: { chain_id: chain.chainId } }))
      .json;
    expect(joined.group_corps).toHaveLength(inRoot.filter((c) => c.corpid !== null).length);
    expect(joined.group_corps.length).toBeLessThan(all.group_corps.length);
    expect(joined.group_corps.every((r: { pending_corpid?: string }) => r.pending_corpid === undefined)).toBe(
      true,
    );
    const paged = await listGroup(sim, token, { chain_id: chain.chainId, need_pending: false, limit: 3 });
    expect(paged.rows.map(keyOfRow)).toEqual(joined.group_corps.map(keyOfRow));
  });

  it('refuses cursors that are garbage, altered, or from another listing or server (50100)', async () => {
    const chain = firstChain(sim);
    const body = { chain_id: chain.chainId, need_pending: true, limit: 2 };
    const first = (await call(sim, 'get_chain_corpinfo_list', { token, body })).json;
    expect(first.has_more).toBe(true);
    const cursor: string = first.next_cursor;
    expect(cursor).not.toMatch(/^\d+$/);
    const flipped = cursor.slice(0, 5) + (cursor[5] === 'A' ? 'B' : 'A') + cursor.slice(6);
    const other = await start({ network: sim.network });
    const otherCursor = (await call(other, 'get_chain_corpinfo_list', { token: await getToken(other), body }))
      .json.next_cursor;
    const groupid = [...chain.groups.keys()][0]!;
    for (const [bad, extra] of [
      ['garbage', {}],
      ['12', {}],
      [flipped, {}],
      [otherCursor, {}],
      [cursor, { groupid }],
      [cursor, { need_pending: false }],
    ] as const) {
      const answer = await call(sim, 'get_chain_corpinfo_list', {
        token,
        body: { ...body, ...extra, cursor: bad },
      });
      expect(answer.json.errcode, `cursor ${bad} with ${JSON.stringify(extra)}`).toBe(50100);
    }
    expect(
      (await call(sim, 'get_chain_corpinfo_list', { token, body: { ...body, cursor } })).json.errcode,
    ).toBe(0);
  });

  it('keeps a listing consistent when the network changes between pages', async () => {
    const network = SimNetwork.generate({
      seed: 8,
      chains: 1,
      groups: 0,
      corps: 60,
      pendingRatio: 0,
      maxDepth: 1,
    });
    const own = await start({ network });
    const t = await getToken(own);
    const chain = firstChain(own);
    const keys = [...chain.corps.keys()];
    const body = { chain_id: chain.chainId, limit: 10 };
    const page1 = (await call(own, 'get_chain_corpinfo_list', { token: t, body })).json;
    network.removeCorp(chain.chainId, keys[30]!); // not listed yet: must not show up
    network.removeCorp(chain.chainId, keys[2]!); // already listed: must not shift the rest
    network.addCorp(chain.chainId, { ...chain.corps.get(keys[0]!)!, corpid: 'wwlatecomer000001' });
    const rows = [...page1.group_corps];
    let cursor = page1.next_cursor;
    for (let more = true; more; ) {
      const next = (await call(own, 'get_chain_corpinfo_list', { token: t, body: { ...body, cursor } })).json;
      rows.push(...next.group_corps);
      more = next.has_more;
      cursor = next.next_cursor;
    }
    const listed = rows.map(keyOfRow);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).not.toContain(keys[30]);
    expect(listed).toContain('wwlatecomer000001');
    for (const k of keys) if (k !== keys[2] && k !== keys[30]) expect(listed).toContain(k);
  });

  it('gives corp details: qualification only for joined corps, corpid winning over pending_corpid', async () => {
    const chain = firstChain(sim);
    const joined = [...chain.corps.values()].find((c) => c.corpid !== null)!;
    const pending = [...chain.corps.values()].find((c) => c.pendingCorpid !== null)!;
    const ask = (body: object) =>
      call(sim, 'get_chain_corpinfo', { token, body: { chain_id: chain.chainId, ...body } });
    expect((await ask({ corpid: joined.corpid, pending_corpid: pending.pendingCorpid })).json).toEqual({
      errcode: 0,
      errmsg: 'ok',
      corp_name: joined.corpName,
      qualification_status: joined.qualificationStatus,
      custom_id: joined.customId,
      groupid: joined.groupid,
      is_joined: true,
    });
    const p = (await ask({ pending_corpid: pending.pendingCorpid })).json;
    expect(p).toMatchObject({ errcode: 0, corp_name: pending.corpName, is_joined: false });
    expect(p).not.toHaveProperty('qualification_status');
    expect((await ask({ corpid: 'wwdoesnotexist0001' })).json.errcode).toBe(60136);
    expect((await ask({})).json.errcode).toBe(40063);
  });

  it('refuses wrong methods, bad JSON and bad fields with WeCom-style errcodes', async () => {
    const chainId = firstChain(sim).chainId;
    const list = (options: Parameters<typeof call>[2]) =>
      call(sim, 'get_chain_corpinfo_list', { token, ...options });
    expect((await list({ method: 'GET' })).json.errcode).toBe(40063);
    expect((await call(sim, 'get_chain_list', { token, method: 'POST', body: {} })).json.errcode).toBe(40063);
    expect((await list({ rawBody: '{"chain_id":' })).json.errcode).toBe(47001);
    expect((await list({ rawBody: '[1,2]' })).json.errcode).toBe(47001);
    expect((await list({ body: {} })).json.errcode).toBe(40063);
    expect((await list({ body: { chain_id: chainId, limit: -1 } })).json.errcode).toBe(40058);
    expect((await list({ body: { chain_id: chainId, groupid: '2' } })).json.errcode).toBe(40058);
    expect((await list({ body: { chain_id: chainId, groupid: 99_999 } })).json.errcode).toBe(60003);
    expect((await list({ body: { chain_id: 'Chnope' } })).json.errcode).toBe(40058);
    const notFound = await fetch(`${sim.url}/cgi-bin/nope`);
    expect(notFound.status).toBe(404);
  });
});

describe('options and live changes', () => {
  it('leaves invite_userid out when the app is not allowed to call', async () => {
    const sim = await start({ inviteUserid: false });
    const token = await getToken(sim);
    const rows = (
      await call(sim, 'get_chain_corpinfo_list', { token, body: { chain_id: firstChain(sim).chainId } })
    ).json.group_corps;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).not.toHaveProperty('invite_userid');
  });

  it('shows mutations on the next request', async () => {
    const sim = await start();
    const token = await getToken(sim);
    const net = sim.network;
    const chain = firstChain(sim);
    const joined = [...chain.corps.entries()].find(([, c]) => c.corpid !== null && c.groupid === 1)!;
    const pending = [...chain.corps.entries()].find(([, c]) => c.pendingCorpid !== null && c.groupid === 1)!;
    net.renameCorp(chain.chainId, joined[0], '上海改名粮油有限公司');
    const detail = await call(sim, 'get_chain_corpinfo', {
      token,
      body: { chain_id: chain.chainId, corpid: joined[0] },
    });
    expect(detail.json.corp_name).toBe('上海改名粮油有限公司');
    const newKey = net.joinCorp(chain.chainId, pending[0], 'wwjustjoined00001');
    const rows = (
      await call(sim, 'get_chain_corpinfo_list', {
        token,
        body: { chain_id: chain.chainId, need_pending: true },
      })
    ).json.group_corps.map(keyOfRow);
    expect(rows).toContain(newKey);
    expect(rows).not.toContain(pending[0]);
    const top = [...chain.groups.values()].find((g) => g.parentid === 1)!;
    net.removeGroup(chain.chainId, top.groupid);
    const groups = (await call(sim, 'get_chain_group', { token, body: { chain_id: chain.chainId } })).json
      .groups;
    expect(groups.map((g: { groupid: number }) => g.groupid)).not.toContain(top.groupid);
    const gone = await call(sim, 'get_chain_corpinfo_list', {
      token,
      body: { chain_id: chain.chainId, groupid: top.groupid },
    });
    expect(gone.json.errcode).toBe(60003);
    net.removeChain(chain.chainId);
    const chains = (await call(sim, 'get_chain_list', { token })).json.chains;
    expect(chains.map((c: { chain_id: string }) => c.chain_id)).not.toContain(chain.chainId);
  });

  it("counts the latency from the request's arrival, so a slow body is part of it", async () => {
    const sim = await start({ latencyMs: 500 });
    const token = await getToken(sim);
    const body = JSON.stringify({ chain_id: firstChain(sim).chainId });
    const url = `${sim.url}${SIM_ENDPOINTS.get_chain_group.path}?access_token=${token}`;
    const answered = Promise.withResolvers<{ ms: number; text: string }>();
    const started = performance.now();
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => answered.resolve({ ms: performance.now() - started, text }));
      },
    );
    req.on('error', answered.reject);
    req.flushHeaders();
    // The body follows 400 ms after the headers, as from a slow client.
    setTimeout(() => req.end(body), 400);
    const { ms, text } = await answered.promise;
    expect(JSON.parse(text).errcode).toBe(0);
    // Latency counted from the headers: ~500 ms. Added after the body: 900 ms or more.
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(ms).toBeLessThan(800);
  });

  it('close() ends even with a request in flight', async () => {
    const sim = await start({ latencyMs: 10_000 });
    const pending = fetch(`${sim.url}/cgi-bin/gettoken?corpid=${CORP_ID}&corpsecret=${SECRET}`).then(
      () => 'answered',
      () => 'failed',
    );
    await until(() => sim.inFlightMax === 1);
    const started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('failed');
  });
});
