// undici's Pool and request(), loaded without undici's index. The index loads all of undici (fetch,
// WebSocket, EventSource, the cache, mocks, proxies): 13 MiB more RSS at start-up, in a process that peaks
// at ~140 MiB against issue 6's 150 MB target, for nothing a sync uses. These two files are not a public
// entry point, so the version is pinned by package-lock.json and test/wecom/undici-lean.test.ts checks that
// they are still what the index exports.
import { createRequire } from 'node:module';
import type * as undici from 'undici';

const require = createRequire(import.meta.url);

export const Pool: typeof undici.Pool = require('undici/lib/dispatcher/pool.js');

/** Dispatcher.prototype.request, which only the index installs: here called on any dispatcher. */
const dispatcherRequest: (
  this: undici.Dispatcher,
  options: undici.Dispatcher.RequestOptions,
) => Promise<undici.Dispatcher.ResponseData> = require('undici/lib/api/api-request.js');

export function request(
  dispatcher: undici.Dispatcher,
  options: undici.Dispatcher.RequestOptions,
): Promise<undici.Dispatcher.ResponseData> {
  return dispatcherRequest.call(dispatcher, options);
}
