/**
 * Which ids a store may hold: a Bloom filter (no false negatives, ~1 % false positives), so a
 * store is asked only about ids it may know. Used by `cdc import`'s state store (on a first import
 * into an empty bronze nearly every row is new and its look-up is skipped: it cost ~7 % of the
 * import's CPU) and by the read model's writer (new bookings: no point lookup in SQLite). A false
 * positive only costs a look-up that finds nothing. Memory is bounded by the ids
 * added, ~1.2 bytes each (1,000,000 ids: 1.25 MiB), never by the input: when a layer is full a
 * layer twice its size is added (a scalable Bloom filter). Our own ~50 lines: the filter packages
 * on npm are ESM-only or carry much more than this needs.
 */
export interface IdFilter {
  add(id: string): void;
  /** false: certainly never added; true: probably added. */
  mayHave(id: string): boolean;
}

const BITS_PER_ID = 10;
const HASHES = 4; // with 10 bits per id: ~1.5 % false positives per layer (blocked, below)

interface Layer {
  bits: Uint32Array;
  /** Block count − 1 (a power of two); a block is 512 bits, one cache line of 64 bytes. */
  blocks: number;
  capacity: number;
  added: number;
}

const layer = (capacity: number): Layer => {
  let size = 1024;
  while (size < capacity * BITS_PER_ID) size *= 2;
  return { bits: new Uint32Array(size / 32), blocks: size / 512 - 1, capacity, added: 0 };
};

/** Two independent 32-bit hashes of a string (FNV-1a and a murmur3-style mix), for double hashing. */
let h1 = 0;
let h2 = 0;
function hash(s: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  h1 = a >>> 0;
  h2 = ((b ^ (b >>> 16)) | 1) >>> 0;
}

/**
 * A blocked Bloom filter: an id's bits all lie in one 512-bit block (chosen by h1; the bits by 9-bit
 * slices of h2 and h1's top), so a test costs one cache miss instead of one per hash — the filter
 * of millions of ids is far larger than the CPU caches. A little more false positives than a
 * plain one (~1.5 % instead of ~1.2 % at 10 bits per id).
 */
function test(l: Layer, set: boolean): boolean {
  const base = (h1 & l.blocks) << 4; // the block's first 32-bit word
  for (let k = 0; k < HASHES; k++) {
    const bit = (k < 3 ? h2 >>> (k * 9) : h1 >>> 23) & 511;
    const word = base + (bit >>> 5);
    const m = 1 << (bit & 31);
    if (set) l.bits[word]! |= m;
    else if ((l.bits[word]! & m) === 0) return false;
  }
  return true;
}

export function createIdFilter(initialCapacity = 1 << 20): IdFilter {
  const layers: Layer[] = [layer(initialCapacity)];
  return {
    add(id) {
      let top = layers[layers.length - 1]!;
      if (top.added >= top.capacity) layers.push((top = layer(top.capacity * 2)));
      hash(id);
      test(top, true);
      top.added++;
    },
    mayHave(id) {
      hash(id);
      for (const l of layers) if (test(l, false)) return true;
      return false;
    },
  };
}
