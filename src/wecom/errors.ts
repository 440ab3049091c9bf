// Every failure the client reports is one of these; none carries a token, a secret or a query string.
import { ENDPOINT_PATHS, type Endpoint } from './types.ts';

/** WeCom answered with a non-zero errcode that retrying could not fix. */
export class WecomApiError extends Error {
  override name = 'WecomApiError';
  readonly endpoint: Endpoint;
  readonly errcode: number;
  readonly errmsg: string;
  constructor(endpoint: Endpoint, errcode: number, errmsg: string) {
    super(`${ENDPOINT_PATHS[endpoint]}: WeCom errcode ${errcode}: ${errmsg}`);
    this.endpoint = endpoint;
    this.errcode = errcode;
    this.errmsg = errmsg;
  }
}

/** WeCom refused the app: wrong secret or corp id, no permission for these APIs, IP not allowed. */
export class WecomRefusedError extends WecomApiError {
  override name = 'WecomRefusedError';
}

/** The request never produced a usable WeCom answer: timeout, dropped connection, HTTP error status. */
export class WecomTransportError extends Error {
  override name = 'WecomTransportError';
  readonly endpoint: Endpoint;
  readonly httpStatus: number | null;
  constructor(endpoint: Endpoint, detail: string, httpStatus: number | null = null, options?: ErrorOptions) {
    super(`${ENDPOINT_PATHS[endpoint]}: ${detail}`, options);
    this.endpoint = endpoint;
    this.httpStatus = httpStatus;
  }
}

/** WeCom answered errcode 0 with a body that does not fit the documented shape. */
export class WecomResponseError extends Error {
  override name = 'WecomResponseError';
  readonly endpoint: Endpoint;
  readonly field: string;
  constructor(endpoint: Endpoint, field: string, problem: string) {
    super(`${ENDPOINT_PATHS[endpoint]}: invalid response at ${field || '(body)'}: ${problem}`);
    this.endpoint = endpoint;
    this.field = field;
  }
}
