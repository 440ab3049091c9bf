// Reading requests and writing answers in WeCom's format, for the server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestFacts } from './faults.ts';
import { ROOT_GROUP_ID } from './model.ts';
import { ERRCODE, type SimEndpoint, type WireBody, WireError } from './wire.ts';

const MAX_BODY_BYTES = 1 << 20;
export const JSON_TYPE = 'application/json; charset=UTF-8';

export type Body = Record<string, unknown>;

/** {} for an empty body; 47001 for anything that is not a JSON object. */
export function parseBody(raw: string): Body | WireError {
  if (raw.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Body;
  } catch {
    // fall through
  }
  return new WireError(ERRCODE.badFormat, 'Warning: wrong json format.');
}

export function factsOf(endpoint: SimEndpoint, body: Body): RequestFacts {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const groupid = typeof body.groupid === 'number' ? body.groupid : undefined;
  return {
    chainId: str(body.chain_id),
    groupid: groupid ?? (endpoint === 'get_chain_corpinfo_list' ? ROOT_GROUP_ID : undefined),
    corpid: str(body.corpid),
    pendingCorpid: str(body.pending_corpid),
  };
}

/** The body as text, or null when the client went away or sent more than MAX_BODY_BYTES. */
export async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        req.socket.destroy();
        return null;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return null;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** WeCom also repeats errcode and errmsg in Error-Code / Error-Msg headers. */
export function sendWire(res: ServerResponse, body: WireBody): void {
  const errcode = String(body.errcode);
  const errmsg = typeof body.errmsg === 'string' ? body.errmsg.replace(/[^\x20-\x7e]/g, '?') : '';
  send(res, 200, JSON_TYPE, JSON.stringify(body), { 'Error-Code': errcode, 'Error-Msg': errmsg });
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
