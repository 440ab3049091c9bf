// Aborting: what to throw, and how one caller signal reaches many waits cheaply.

/** What to throw once `signal` has aborted: its reason, or an AbortError when the reason is not an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

/**
 * `work`'s outcome, or the signal's reason as soon as it aborts, whichever comes first. For waits that
 * cannot take a signal themselves (a place in a queue, a token refresh shared with other calls): `work`
 * goes on, and what it ends with is dropped.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Fans one AbortSignal out to per-call signals through a single listener. Node's addEventListener
 * scans the signal's listeners on every add, so one listener per waiting call on a shared signal is
 * quadratic: a crawl parks tens of thousands of calls at once (seconds to minutes of CPU).
 */
export class AbortFanout {
  readonly #parent: AbortSignal | undefined;
  readonly #children = new Set<AbortController>();

  constructor(parent: AbortSignal | undefined) {
    this.#parent = parent;
    parent?.addEventListener(
      'abort',
      () => {
        for (const child of this.#children) child.abort(parent.reason);
        this.#children.clear();
      },
      { once: true },
    );
  }

  /**
   * A signal that aborts with the parent, or with `also` (one call's own signal, such as its chain's);
   * `dispose` it when the call is over.
   */
  child(also?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
    const controller = new AbortController();
    const aborted = this.#parent?.aborted ? this.#parent : also?.aborted ? also : undefined;
    if (aborted) {
      controller.abort(aborted.reason);
      return { signal: controller.signal, dispose: () => {} };
    }
    if (this.#parent) this.#children.add(controller);
    // A call's own signal has few listeners at a time (a chain's calls in flight), so one each is cheap.
    const onAlso = () => controller.abort(also?.reason);
    also?.addEventListener('abort', onAlso, { once: true });
    return {
      signal: controller.signal,
      dispose: () => {
        this.#children.delete(controller);
        also?.removeEventListener('abort', onAlso);
      },
    };
  }
}
