import { ERRCODE, TOKEN_ERRCODES } from '../wecom/errcodes.ts';
import {
  WecomApiError,
  WecomRefusedError,
  WecomResponseError,
  WecomTransportError,
} from '../wecom/errors.ts';

/** The API answered, but in a way that makes the chain's crawl impossible to complete (e.g. a cursor loop). */
export class CrawlError extends Error {
  override name = 'CrawlError';
  readonly chainId: string;
  constructor(chainId: string, message: string) {
    super(`chain ${chainId}: ${message}`);
    this.chainId = chainId;
  }
}

/**
 * Errors that end one chain's crawl but not the run: the other chains can still be synced.
 * Anything else (credentials refused, the database gone, a bug) stops the whole run.
 */
export function isChainScoped(err: unknown): boolean {
  if (err instanceof WecomRefusedError) return false;
  return (
    err instanceof WecomApiError ||
    err instanceof WecomTransportError ||
    err instanceof WecomResponseError ||
    err instanceof CrawlError
  );
}

// The codes WeCom documents for these endpoints and their calls, each with what it means for a crawl. Any
// other code is "fatal for that call": for a corp's details, the one corp, not its chain (a corp that left
// the chain while it was being crawled, say).
const DOCUMENTED_ERRCODES: ReadonlySet<number> = new Set([
  ERRCODE.busy,
  ...TOKEN_ERRCODES,
  ERRCODE.frequency,
  ERRCODE.concurrency,
  ERRCODE.invalidCursor,
  ERRCODE.noPrivilege,
]);

/** A failure of one corp's details call that leaves the rest of its chain's crawl sound. */
export function isCorpScoped(err: unknown): boolean {
  return (
    err instanceof WecomApiError &&
    !(err instanceof WecomRefusedError) &&
    // Not a token refresh that failed on the call's behalf: that is no answer about the corp.
    err.endpoint === 'get_chain_corpinfo' &&
    !DOCUMENTED_ERRCODES.has(err.errcode)
  );
}

/**
 * A corp's details that cannot be had, for that corp alone: refused (isCorpScoped), or answered in a shape
 * that does not fit. Either way its listing stands and its details are due again; failing the chain would
 * hold back every change its listing shows, on every run, for one corp's answer.
 */
export function isDetailsFailure(err: unknown): boolean {
  return isCorpScoped(err) || isMisfitDetails(err);
}

/** A get_chain_corpinfo answer that does not fit the schema: it says nothing of the corp. */
export function isMisfitDetails(err: unknown): boolean {
  return err instanceof WecomResponseError && err.endpoint === 'get_chain_corpinfo';
}

export function hasErrcode(err: unknown, errcode: number): boolean {
  return err instanceof WecomApiError && err.errcode === errcode;
}
