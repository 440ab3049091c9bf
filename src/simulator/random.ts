// Seeded randomness. Math.random cannot be seeded, and generated networks and random faults must be
// reproducible from a seed alone, so everything random in the simulator goes through Rng.

/** murmur3's 32-bit finaliser: a bijection on uint32, used to make ids unique by construction. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * prefix + 16 hex digits. Built with join, not a template: V8 stores a concatenation of 13+ chars as
 * a rope of several objects, and with a million ids the flat string saves ~50 MB.
 */
export function hexId(prefix: string, hi: number, lo: number): string {
  return [
    prefix,
    HEX2[hi >>> 24],
    HEX2[(hi >>> 16) & 255],
    HEX2[(hi >>> 8) & 255],
    HEX2[hi & 255],
    HEX2[lo >>> 24],
    HEX2[(lo >>> 16) & 255],
    HEX2[(lo >>> 8) & 255],
    HEX2[lo & 255],
  ].join('');
}

/** sfc32: small, fast and passes PractRand; plenty for test data. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    // Fold the whole double into the state so seeds above 2^32 still differ.
    const lo = seed >>> 0;
    const hi = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
    this.#a = mix32(lo ^ 0x9e3779b9);
    this.#b = mix32(hi ^ 0x243f6a88);
    this.#c = mix32(lo + 0x85a308d3);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}
