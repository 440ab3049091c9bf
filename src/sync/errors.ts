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

export function hasErrcode(err: unknown, errcode: number): boolean {
  return err instanceof WecomApiError && err.errcode === errcode;
}
