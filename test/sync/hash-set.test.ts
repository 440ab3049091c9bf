import { describe, expect, it } from 'vitest';
import { fnv1a } from '../../src/sync/fnv.ts';
import { HashSet30 } from '../../src/sync/hash-set.ts';

describe('HashSet30', () => {
  it('adds each hash once, across the table growing many times', () => {
    const set = new HashSet30();
    const n = 300_000;
    const hash = (i: number) => fnv1a(`ww${i}`) & 0x3fffffff;
    // As a listing uses it: hashes of keys, new ones (a few collide), then each seen again.
    let added = 0;
    for (let i = 0; i < n; i++) if (set.add(hash(i))) added++;
    expect(added).toBe(new Set(Array.from({ length: n }, (_, i) => hash(i))).size);
    expect(added).toBeGreaterThan(n - 100);
    for (let i = 0; i < n; i++) if (set.add(hash(i))) added++;
    expect(set.size).toBe(added);
  });

  it('keeps hashes that differ only in their high bits, and the two ends of the range', () => {
    const set = new HashSet30();
    const hashes = [0, 2 ** 30 - 1, ...Array.from({ length: 2_000 }, (_, i) => (i << 19) | 7)];
    for (const h of hashes) expect(set.add(h), String(h)).toBe(true);
    for (const h of hashes) expect(set.add(h), String(h)).toBe(false);
    expect(set.size).toBe(hashes.length);
  });

  it('refuses what is not a 30-bit hash', () => {
    const set = new HashSet30();
    for (const bad of [-1, 2 ** 30, 1.5, Number.NaN]) expect(() => set.add(bad)).toThrow(RangeError);
    expect(set.size).toBe(0);
  });
});
