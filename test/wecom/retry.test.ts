import { describe, expect, it } from 'vitest';
import { WecomApiError, WecomRefusedError, WecomTransportError } from '../../src/wecom/errors.ts';
import {
  backoffDelay,
  classify,
  type Failure,
  failureError,
  parseRetryAfter,
  statsKey,
} from '../../src/wecom/retry.ts';

describe('backoffDelay', () => {
  it('is 0 when random() is 0 and just under the ceiling when random() is nearly 1', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(0, 100, 10_000, () => 0.999_999)).toBe(99);
  });

  it('doubles the ceiling per retry and caps it at maxMs', () => {
    const top = (retry: number) => backoffDelay(retry, 100, 1_000, () => 0.999_999);
    expect([0, 1, 2, 3, 4, 10, 60, 5000].map(top)).toEqual([99, 199, 399, 799, 999, 999, 999, 999]);
  });

  it('spreads uniformly over [0, ceiling): full jitter', () => {
    for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.99]) {
      const delay = backoffDelay(3, 250, 10_000, () => r);
      expect(delay).toBe(Math.floor(r * 2_000));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2_000);
    }
  });
});

describe('classify', () => {
  const errcode = (code: number): Failure => ({ kind: 'errcode', errcode: code, errmsg: '' });
  const http = (status: number): Failure => ({ kind: 'http', status, retryAfterMs: null });

  it.each([
    [errcode(-1), 'retry'],
    [errcode(45033), 'retry'],
    [errcode(45009), 'pause'],
    [errcode(40014), 'token'],
    [errcode(41001), 'token'],
    [errcode(42001), 'token'],
    [errcode(40001), 'fail'],
    [errcode(40013), 'fail'],
    [errcode(48002), 'fail'],
    [errcode(60011), 'fail'],
    [errcode(60020), 'fail'],
    [errcode(50100), 'fail'],
    [errcode(12345), 'fail'],
    [http(429), 'retry'],
    [http(500), 'retry'],
    [http(502), 'retry'],
    [http(503), 'retry'],
    [http(400), 'fail'],
    [http(404), 'fail'],
    [{ kind: 'timeout', timeoutMs: 1 }, 'retry'],
    [{ kind: 'network', code: 'ECONNRESET' }, 'retry'],
    [{ kind: 'bad_json' }, 'retry'],
    [{ kind: 'unusable', code: 'UND_ERR_CLOSED' }, 'fail'],
  ] as const)('%j → %s', (failure, action) => {
    expect(classify(failure)).toBe(action);
  });

  it('names stats keys as errcodes, http_<status>, timeout, network, invalid_response', () => {
    expect(statsKey(errcode(-1))).toBe('-1');
    expect(statsKey(http(502))).toBe('http_502');
    expect(statsKey({ kind: 'timeout', timeoutMs: 1 })).toBe('timeout');
    expect(statsKey({ kind: 'network', code: 'ECONNRESET' })).toBe('network');
    expect(statsKey({ kind: 'bad_json' })).toBe('invalid_response');
  });

  it('turns final failures into the documented error classes', () => {
    expect(failureError('gettoken', errcode(40001))).toBeInstanceOf(WecomRefusedError);
    expect(failureError('get_chain_group', errcode(48002))).toBeInstanceOf(WecomRefusedError);
    const api = failureError('get_chain_group', errcode(60011));
    expect(api).toBeInstanceOf(WecomApiError);
    expect(api).not.toBeInstanceOf(WecomRefusedError);
    const transport = failureError('get_chain_list', http(502));
    expect(transport).toBeInstanceOf(WecomTransportError);
    expect(transport).toMatchObject({ httpStatus: 502, endpoint: 'get_chain_list' });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates, ignores junk', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(undefined)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    // Numbers that are not delta seconds: Date.parse reads them as dates long past ("retry now").
    for (const junk of ['1.5', '-1', '2.5 ', '120.0']) expect(parseRetryAfter(junk), junk).toBeNull();
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5_000);
  });
});
