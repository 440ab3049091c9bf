// The WeCom error codes the job acts on, by name (WeCom's global error code page). Any other code fails
// its call; what that means for a crawl is sync/errors.ts's to say. The simulator keeps a table of its own
// (simulator/wire.ts): it plays WeCom, and sharing one would let a wrong code pass on both sides unseen.
export const ERRCODE = {
  /** System busy: retried. */
  busy: -1,
  /** Wrong corp secret. */
  invalidSecret: 40001,
  invalidCorpId: 40013,
  /** The access token: invalid, missing, expired. A new one is fetched and the call sent again. */
  invalidToken: 40014,
  missingToken: 41001,
  expiredToken: 42001,
  /** The endpoint's calls per minute or hour are used up: WeCom blocks it for the rest of the window. */
  frequency: 45009,
  /** Too many calls in flight: retried, with fewer at once. */
  concurrency: 45033,
  /** The app may not call this API. */
  apiForbidden: 48002,
  /** A listing's cursor is no longer valid: the listing starts again. */
  invalidCursor: 50100,
  /** Outside the app's visible range. */
  noPrivilege: 60011,
  /** The caller's IP is not in the app's allow list. */
  ipNotAllowed: 60020,
} as const;

export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([
  ERRCODE.invalidToken,
  ERRCODE.missingToken,
  ERRCODE.expiredToken,
]);

/** The credentials or the app's configuration are wrong: no point going on. */
export const REFUSED_ERRCODES: ReadonlySet<number> = new Set([
  ERRCODE.invalidSecret,
  ERRCODE.invalidCorpId,
  ERRCODE.apiForbidden,
  ERRCODE.ipNotAllowed,
]);
