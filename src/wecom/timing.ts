// Time and waiting, injectable so tests can drive every wait with a fake clock instead of real sleeps.
import { abortReason } from './abort.ts';

/** Milliseconds on a monotonic clock: only differences between two readings mean anything. */
export type Now = () => number;

/** Resolves after `ms`; rejects with the signal's reason as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

// performance.now() rather than Date.now(): a wall-clock step (NTP) must not open or close rate windows.
export const monotonicNow: Now = () => performance.now();

export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
