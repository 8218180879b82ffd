/**
 * Mulberry32: a small seeded PRNG. Shard placement on the coordinator and batch order on a tab
 * must be reproducible from a seed alone, which Math.random cannot give.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random hex id from crypto.getRandomValues. Not crypto.randomUUID: browsers hide that on a
 * page that is not a secure context (plain http from another machine), getRandomValues not.
 */
export function randomId(bytes = 16): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
}
