// What earlier processes spent of WeCom's windows: WeCom counts an API's calls per corp and hour, whichever
// process makes them, so a client starts with the calls of the last hour's runs already in its windows.
import type { RateLimiter } from './rate-limit.ts';
import { type Endpoint, HOUR_MS, isEndpoint, MINUTE_MS } from './types.ts';

/** `calls` requests to `endpoint`, the last of them `ageMs` ago. */
export interface PriorCalls {
  endpoint: string;
  calls: number;
  ageMs: number;
}

/** WeCom's own limit per API and minute: no earlier run can have made more, whatever its configuration. */
const WECOM_PER_MINUTE = 10_000;

/**
 * Counts earlier processes' calls in the windows, each run's as late as they can have been made: as many
 * in each minute going back from the run's end as the minute allows, this client's cap or WeCom's, the
 * larger (an earlier run may have had a higher cap than this one). They leave the hour no earlier than
 * WeCom lets them go, so a process started within the hour of a large sync cannot draw WeCom's hour-long
 * block; and not much later, so it does not wait the whole hour either.
 */
export function seedPriorCalls(
  limiters: Record<Endpoint, RateLimiter>,
  prior: readonly PriorCalls[],
  now: number,
  ratePerMinute: number,
): void {
  const perMinute = Math.max(ratePerMinute, WECOM_PER_MINUTE);
  const starts: { endpoint: Endpoint; at: number; calls: number }[] = [];
  for (const { endpoint, calls, ageMs } of prior) {
    if (!isEndpoint(endpoint)) continue;
    const end = now - Math.max(0, ageMs);
    for (let left = calls, at = end; left > 0 && now - at < HOUR_MS; at -= MINUTE_MS) {
      starts.push({ endpoint, at, calls: Math.min(left, perMinute) });
      left -= perMinute;
    }
  }
  // A window takes starts in time order.
  for (const s of starts.sort((a, b) => a.at - b.at)) limiters[s.endpoint].recordPast(s.at, s.calls);
}
