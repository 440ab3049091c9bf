// Broken answers for the 'malformed' and 'httpStatus' faults: what a client's validation must catch.
import { STATUS_CODES } from 'node:http';
import type { SimEndpoint, WireBody } from './wire.ts';

/** Cut mid-way: a proper prefix of a JSON object's text never parses. */
export function truncateJson(text: string): string {
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
}

/**
 * Keeps errcode 0 but gives one documented field the wrong type (or drops it), in place: handler
 * answers are built fresh per request, so nothing shared is touched.
 */
export function breakSchema(endpoint: SimEndpoint, body: WireBody): WireBody {
  if (body.errcode !== 0) {
    body.errcode = String(body.errcode);
    return body;
  }
  switch (endpoint) {
    case 'gettoken':
      body.access_token = 20240101;
      break;
    case 'get_chain_list': {
      const first = firstOf(body.chains);
      if (first) first.chain_name = 404;
      else body.chains = 'none';
      break;
    }
    case 'get_chain_group': {
      const first = firstOf(body.groups);
      if (first) first.parentid = 'root';
      else body.groups = null;
      break;
    }
    case 'get_chain_corpinfo_list': {
      const first = firstOf(body.group_corps);
      if (first) first.corp_name = 12345;
      else body.has_more = 'false';
      break;
    }
    case 'get_chain_corpinfo':
      body.corp_name = 12345;
      delete body.groupid;
      break;
  }
  return body;
}

function firstOf(list: unknown): WireBody | undefined {
  return Array.isArray(list) && list.length > 0 ? (list[0] as WireBody) : undefined;
}

/** What a proxy in front of WeCom (Tencent's STGW) sends instead of an answer. */
export function proxyErrorPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n`;
}
