import { describe, expect, it } from 'vitest';
import { CrawlError, isChainScoped, isCorpScoped } from '../../src/sync/errors.ts';
import { WecomApiError, WecomRefusedError, WecomTransportError } from '../../src/wecom/errors.ts';

describe('isCorpScoped', () => {
  it("is a details call's undocumented errcode, and nothing else", () => {
    expect(isCorpScoped(new WecomApiError('get_chain_corpinfo', 301002, 'x'))).toBe(true);
    // Documented: 60011 makes the chain's crawl incomplete; -1, 45009 and 45033 ran out of retries.
    for (const errcode of [60011, -1, 45009, 45033, 42001]) {
      expect(isCorpScoped(new WecomApiError('get_chain_corpinfo', errcode, 'x'))).toBe(false);
    }
    // A token refresh that failed on the call's behalf says nothing about the corp.
    expect(isCorpScoped(new WecomApiError('gettoken', 41004, 'x'))).toBe(false);
    expect(isCorpScoped(new WecomApiError('get_chain_corpinfo_list', 301002, 'x'))).toBe(false);
    expect(isCorpScoped(new WecomRefusedError('get_chain_corpinfo', 48002, 'x'))).toBe(false);
    expect(isCorpScoped(new WecomTransportError('get_chain_corpinfo', 'timeout'))).toBe(false);
    expect(isChainScoped(new CrawlError('c', 'x'))).toBe(true);
  });
});
