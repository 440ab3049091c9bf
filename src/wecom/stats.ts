// The client's counters: plain JSON, stored as is in sync_runs.stats for BI.
import { ENDPOINTS } from './types.ts';

export interface ApiStats {
  /** HTTP requests actually sent, per endpoint (gettoken included). */
  calls: Record<string, number>;
  /** Requests sent again after a failure (backoff, 45009 pause or token renewal), per endpoint. */
  retries: Record<string, number>;
  /**
   * endpoint → errcode, 'http_<status>', 'timeout', 'network' or 'invalid_response' → count; past
   * MAX_ERROR_KEYS distinct keys for an endpoint, the further ones count as 'other'.
   */
  errors: Record<string, Record<string, number>>;
  /** Access tokens obtained (the first one included). */
  tokenRefreshes: number;
}

/** Every endpoint present from the start, so the stored shape does not depend on what was called. */
export function emptyApiStats(): ApiStats {
  return {
    calls: Object.fromEntries(ENDPOINTS.map((e) => [e, 0])),
    retries: Object.fromEntries(ENDPOINTS.map((e) => [e, 0])),
    errors: Object.fromEntries(ENDPOINTS.map((e) => [e, {}])),
    tokenRefreshes: 0,
  };
}

export function increment(counters: Record<string, number>, key: string): void {
  counters[key] = (counters[key] ?? 0) + 1;
}

// A corp's details refused with an errcode WeCom does not document fail that corp alone, so a server may
// answer every call with a code of its own: each would otherwise be a key in the run's record and a series
// of the errors metric, a million of them at a million corps.
export const MAX_ERROR_KEYS = 32;

/** The key to count `key` under among an endpoint's `counts`: itself, or 'other' past MAX_ERROR_KEYS others. */
export function errorKey(counts: Record<string, number>, key: string): string {
  return key in counts || Object.keys(counts).length < MAX_ERROR_KEYS ? key : 'other';
}

/** Counts a failed call of one endpoint. */
export function countError(errors: Record<string, number>, key: string): void {
  increment(errors, errorKey(errors, key));
}
