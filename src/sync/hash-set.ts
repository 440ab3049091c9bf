// A set of 30-bit hashes in an open-addressing table on a Uint32Array: 4 bytes a slot, at most half of them
// full, in an ArrayBuffer outside V8's heap. A Set<number> took about 20 bytes a member on the heap, which V8
// lets grow by half again between full collections: a listing of a million corps peaked ~25 MiB higher.

const EMPTY = 0;
const MAX_HASH = 2 ** 30 - 1;

export class HashSet30 {
  // Slots hold hash + 1, so that 0 can mark an empty one.
  #slots = new Uint32Array(1 << 10);
  // Where a hash lands depends on this too: a server that picks corpids to hash to values that all land in one
  // run of slots (a linear probe then costs the whole run, 5 s for 40,000 of them) cannot know it.
  readonly #seed = (Math.random() * 2 ** 32) >>> 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `hash` (an integer in 0..2^30-1); whether it was not in the set before. */
  add(hash: number): boolean {
    if (!Number.isInteger(hash) || hash < 0 || hash > MAX_HASH)
      throw new RangeError(`not a 30-bit hash: ${hash}`);
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    return this.#insert(hash + 1);
  }

  #insert(value: number): boolean {
    const mask = this.#slots.length - 1;
    // Fibonacci hashing: the product's top log2(length) bits (clz32 of a power of two 2^b is 31 - b) spread
    // values that differ only in their low bits.
    let i = Math.imul(value ^ this.#seed, 0x9e3779b1) >>> (Math.clz32(this.#slots.length) + 1);
    while (this.#slots[i] !== EMPTY) {
      if (this.#slots[i] === value) return false;
      i = (i + 1) & mask;
    }
    this.#slots[i] = value;
    this.#size += 1;
    return true;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    this.#size = 0;
    for (const value of old) if (value !== EMPTY) this.#insert(value);
  }
}
