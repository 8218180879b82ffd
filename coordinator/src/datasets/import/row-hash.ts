/**
 * 64-bit row hashes for duplicate detection, the hash split and content-defined shard cuts,
 * and a compact set of them. A row is hashed millions of times in a large import, so this is
 * two 32-bit multiply-xor lanes over the bytes rather than a cryptographic hash; collisions
 * only miscount a duplicate, they never change stored bytes.
 */

/** Two independent 32-bit lanes over the first `n` bytes of `bytes` (all by default). */
export function hash64(bytes: Uint8Array, seed = 0, n = bytes.length): [number, number] {
  hash64Into(lanes, bytes, seed, n);
  return [lanes[0], lanes[1]];
}

const lanes = new Uint32Array(2);

/**
 * hash64 written to out[0] and out[1]: no array a call, for the per-row paths (an import
 * hashes every row, and a pair allocated a row was garbage the parse's collections paid for).
 */
export function hash64Into(out: Uint32Array, bytes: Uint8Array, seed: number, n: number): void {
  let a = (0x811c9dc5 ^ seed) >>> 0;
  let b = (0x9e3779b9 ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
  let i = 0;
  // Four bytes a step keeps a 1000-float row cheap; the tail goes byte by byte.
  for (; i + 4 <= n; i += 4) {
    const k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    a = Math.imul(a ^ k, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b ^ k, 0xcc9e2d51);
    b = (b << 13) | (b >>> 19);
    b = Math.imul(b, 5) + 0xe6546b64;
  }
  for (; i < n; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[i], 0x1b873593);
  }
  out[0] = fmix(a ^ n);
  out[1] = fmix(b ^ Math.imul(n, 0x27d4eb2d));
}

/**
 * hash64 over the UTF-8 of `cells` joined by 0x1f (a table row's split hash), read straight from
 * the strings' character codes: what hash64 would give over those bytes, without writing them
 * to a buffer first. Null when a cell holds a non-ASCII character (its UTF-8 is not its
 * character codes); the caller then encodes the row and calls hash64.
 */
export function hashAsciiCells(cells: ArrayLike<unknown>, seed = 0): [number, number] | null {
  return hashAsciiCellsInto(lanes, cells, seed) ? [lanes[0], lanes[1]] : null;
}

/** hashAsciiCells written to out[0] and out[1]; false (out unchanged) for a non-ASCII cell. */
export function hashAsciiCellsInto(out: Uint32Array, cells: ArrayLike<unknown>, seed: number): boolean {
  let a = (0x811c9dc5 ^ seed) >>> 0;
  let b = (0x9e3779b9 ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
  // The word being filled (little-endian, as hash64 reads it), its fill in bits, bytes so far.
  let k = 0;
  let shift = 0;
  let n = 0;
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i];
    const s = typeof v === 'string' ? v : String(v ?? '');
    for (let j = i > 0 ? -1 : 0; j < s.length; j++) {
      const c = j < 0 ? 0x1f : s.charCodeAt(j);
      if (c >= 0x80) return false;
      k |= c << shift;
      n++;
      shift += 8;
      if (shift === 32) {
        a = Math.imul(a ^ k, 0x01000193);
        a ^= a >>> 15;
        b = Math.imul(b ^ k, 0xcc9e2d51);
        b = (b << 13) | (b >>> 19);
        b = Math.imul(b, 5) + 0xe6546b64;
        k = 0;
        shift = 0;
      }
    }
  }
  for (let t = 0; t < shift; t += 8) {
    const byte = (k >>> t) & 0xff;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x1b873593);
  }
  out[0] = fmix(a ^ n);
  out[1] = fmix(b ^ Math.imul(n, 0x27d4eb2d));
  return true;
}

const encoder = new TextEncoder();

/** hash64 over a string's UTF-8 bytes. */
export function hashString(s: string, seed = 0): [number, number] {
  return hash64(encoder.encode(s), seed);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Maps a hash to [0, 1): used for the split and the shard cut. */
export function unitInterval(h: [number, number], seed: number): number {
  return unitOf(h[0], seed);
}

/** unitInterval from the hash's first lane alone. */
export function unitOf(h0: number, seed: number): number {
  return fmix(h0 ^ Math.imul(seed + 1, 0x9e3779b9)) / 2 ** 32;
}

/**
 * Counts the distinct 64-bit hashes among all added, for an import's duplicate rows. A set
 * probed as each row came (the earlier design) missed the cache on nearly every row once it
 * outgrew it (4.9M rows: a 64 MB table, a second and more of a 200 MB CSV's import). Here a
 * hash is appended to one of 256 partitions by its top byte, which writes in order, and the
 * distinct ones are counted at the end a partition at a time, in an open-addressing table that
 * fits the cache. About 8 to 10 bytes a row. The hash (0, 0) marks an empty slot, so it counts
 * as (0, 1): a collision that can only miscount a duplicate.
 */
export class DistinctCounter64 {
  private readonly parts: Uint32Array[];
  /** Values used in each partition (two a hash). */
  private readonly used = new Int32Array(PARTS);
  added = 0;

  /** `expected`: the number of hashes to come, when known (sizes the partitions once). */
  constructor(expected = 0) {
    const each = 2 * Math.max(64, Math.ceil((expected * 1.1) / PARTS));
    this.parts = Array.from({ length: PARTS }, () => new Uint32Array(each));
  }

  add(h0: number, h1: number): void {
    const p = h0 >>> 24;
    let part = this.parts[p];
    const at = this.used[p];
    if (at + 2 > part.length) {
      const bigger = new Uint32Array(part.length * 2);
      bigger.set(part);
      this.parts[p] = part = bigger;
    }
    part[at] = h0;
    part[at + 1] = h0 === 0 && h1 === 0 ? 1 : h1;
    this.used[p] = at + 2;
    this.added++;
  }

  /** How many distinct hashes were added. */
  distinct(): number {
    let count = 0;
    let table = new Uint32Array(0);
    for (let p = 0; p < PARTS; p++) {
      const part = this.parts[p];
      const n = this.used[p] / 2;
      let slots = 16;
      while (slots < n * 2) slots *= 2;
      if (table.length < slots * 2) table = new Uint32Array(slots * 2);
      else table.fill(0, 0, slots * 2);
      const mask = slots - 1;
      for (let e = 0; e < n; e++) {
        const hi = part[2 * e];
        const lo = part[2 * e + 1];
        let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
        for (;;) {
          const a = table[2 * i];
          const b = table[2 * i + 1];
          if (a === 0 && b === 0) {
            table[2 * i] = hi;
            table[2 * i + 1] = lo;
            count++;
            break;
          }
          if (a === hi && b === lo) break;
          i = (i + 1) & mask;
        }
      }
    }
    return count;
  }
}

const PARTS = 256;
