// What goes over the wire: endpoint paths and methods, errcodes and WeCom-style errmsgs. Kept apart
// from the client on purpose: the simulator states what WeCom does, and a test checks the paths
// agree with src/wecom/types.ts.
import { randomBytes } from 'node:crypto';

export const SIM_ENDPOINTS = {
  gettoken: { path: '/cgi-bin/gettoken', method: 'GET' },
  get_chain_list: { path: '/cgi-bin/corpgroup/corp/get_chain_list', method: 'GET' },
  get_chain_group: { path: '/cgi-bin/corpgroup/corp/get_chain_group', method: 'POST' },
  get_chain_corpinfo_list: { path: '/cgi-bin/corpgroup/corp/get_chain_corpinfo_list', method: 'POST' },
  get_chain_corpinfo: { path: '/cgi-bin/corpgroup/corp/get_chain_corpinfo', method: 'POST' },
} as const;

export type SimEndpoint = keyof typeof SIM_ENDPOINTS;

export const SIM_ENDPOINT_NAMES = Object.keys(SIM_ENDPOINTS) as SimEndpoint[];

export function isSimEndpoint(name: string): name is SimEndpoint {
  return Object.hasOwn(SIM_ENDPOINTS, name);
}

/**
 * The errcodes the simulator answers with. Documented WeCom codes, except where marked: WeCom does not
 * document what the chain endpoints return for ids that do not exist, so those are choices.
 */
export const ERRCODE = {
  ok: 0,
  systemBusy: -1,
  invalidSecret: 40001,
  invalidCorpid: 40013,
  invalidToken: 40014,
  /** 不合法的参数: a parameter of the wrong type or out of range. */
  invalidParameter: 40058,
  /** 参数为空: a required parameter is missing. WeCom's help for it also names "wrong HTTP method". */
  missingParameter: 40063,
  missingToken: 41001,
  missingCorpid: 41002,
  missingSecret: 41004,
  tokenExpired: 42001,
  rateLimited: 45009,
  tooConcurrent: 45033,
  /** 数据格式错误: the body is not a JSON object. */
  badFormat: 47001,
  invalidCursor: 50100,
  /** Choice: unknown chain_id. WeCom's generic "invalid parameter"; 40071 (the brief's example) is
   * WeCom's "invalid tag name", which a crawler author reading WeCom's table would find misleading. */
  unknownChain: 40058,
  /** Choice: unknown groupid. 60003 is the contact book's "department not found"; chain groups are
   * the chain's departments. */
  unknownGroup: 60003,
  /** Choice: unknown corpid / pending_corpid. 60136 is WeCom's generic "record not found". */
  unknownCorp: 60136,
} as const;

const MESSAGES: Record<number, string> = {
  [-1]: 'system busy',
  0: 'ok',
  40001: 'invalid credential',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40058: 'invalid parameter',
  40063: 'some parameters are empty',
  41001: 'access_token missing',
  41002: 'corpid missing',
  41004: 'corpsecret missing',
  42001: 'access_token expired',
  45009: 'api freq out of limit',
  45033: 'api concurrent out of limit',
  47001: 'data format error',
  48002: 'api forbidden',
  50100: 'invalid cursor',
  60003: 'department not found',
  60011: 'no privilege to access/modify contact/party/agent',
  60020: 'not allow to access from your ip',
  60136: 'record not exist',
};

export type WireBody = Record<string, unknown>;

/** A request WeCom would refuse with an errcode; handlers throw it, the server answers with it. */
export class WireError extends Error {
  override name = 'WireError';
  readonly errcode: number;
  constructor(errcode: number, detail?: string) {
    super(detail ?? MESSAGES[errcode] ?? 'error');
    this.errcode = errcode;
  }
}

/**
 * WeCom's errmsg shape: text, a hint, the caller's ip and a help link. Clients must branch on errcode
 * only; the varying hint makes matching on errmsg fail in tests as it would in production.
 */
function errmsgFor(errcode: number, detail: string | undefined, ip: string): string {
  if (errcode === 0) return 'ok';
  const text = detail ?? MESSAGES[errcode] ?? 'error';
  const hint = `${Math.floor(Date.now() / 1000)}_${randomBytes(2).readUInt16BE()}_${randomBytes(16).toString('hex')}`;
  return `${text}, hint: [${hint}], from ip: ${ip}, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;
}

export function errorBody(errcode: number, detail: string | undefined, ip: string): WireBody {
  return { errcode, errmsg: errmsgFor(errcode, detail, ip) };
}
