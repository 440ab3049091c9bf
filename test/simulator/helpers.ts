// A bare wire client for the simulator tests: plain fetch, no retries, so every errcode is visible.
import { SIM_ENDPOINTS, type SimEndpoint, type Simulator } from '../../src/simulator/index.ts';

export const CORP_ID = 'wwtestupstream0001';
export const SECRET = 'test-secret';

/** A clock the test moves by hand, so token expiry and rate-limit blocks need no sleeping. */
export class FakeClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface WireAnswer {
  status: number;
  text: string;
  headers: Headers;
  /** The parsed body; undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary wire fields
  json: any;
}

export interface CallOptions {
  /** Default: the endpoint's documented method. */
  method?: string;
  /** access_token query parameter; omitted when undefined. */
  token?: string;
  body?: unknown;
  /** Sent verbatim instead of JSON.stringify(body). */
  rawBody?: string;
  query?: Record<string, string>;
  signal?: AbortSignal;
}

export async function call(
  sim: Simulator,
  endpoint: SimEndpoint,
  options: CallOptions = {},
): Promise<WireAnswer> {
  const spec = SIM_ENDPOINTS[endpoint];
  const url = new URL(sim.url + spec.path);
  if (options.token !== undefined) url.searchParams.set('access_token', options.token);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const method = options.method ?? spec.method;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(url, { method, body: method === 'GET' ? undefined : body, signal: options.signal });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, headers: res.headers, json };
}

export async function getToken(sim: Simulator): Promise<string> {
  const answer = await call(sim, 'gettoken', { query: { corpid: CORP_ID, corpsecret: SECRET } });
  if (answer.json?.errcode !== 0) throw new Error(`gettoken failed: ${answer.text}`);
  return answer.json.access_token as string;
}

export interface ListedRow {
  groupid: number;
  corpid?: string;
  pending_corpid?: string;
  corp_name: string;
  custom_id: string;
  invite_userid?: string;
  is_joined: 0 | 1;
}

/** Walks one group's listing page by page; returns the rows and the page sizes. */
export async function listGroup(
  sim: Simulator,
  token: string,
  body: { chain_id: string; groupid?: number; need_pending?: boolean; limit: number },
): Promise<{ rows: ListedRow[]; pageSizes: number[] }> {
  const rows: ListedRow[] = [];
  const pageSizes: number[] = [];
  let cursor = '';
  for (let guard = 0; guard < 10_000; guard++) {
    const { json } = await call(sim, 'get_chain_corpinfo_list', { token, body: { ...body, cursor } });
    if (json.errcode !== 0) throw new Error(`listing failed: ${JSON.stringify(json)}`);
    rows.push(...json.group_corps);
    pageSizes.push(json.group_corps.length);
    if (!json.has_more) return { rows, pageSizes };
    cursor = json.next_cursor;
  }
  throw new Error('listing never ended');
}

export function keyOfRow(row: ListedRow): string {
  return row.corpid ?? `pending:${row.pending_corpid}`;
}
