export const RANDOM_MIN = 1;
export const RANDOM_MAX = 1000;
const RANGE = RANDOM_MAX - RANDOM_MIN + 1;
/** A 10-bit field of an output gives 0..1023; fields at or above RANGE are rejected. */
const FIELD_BITS = 10;
const FIELD_MASK = (1 << FIELD_BITS) - 1;

/** Seeds drawn from the CSPRNG at once: one call per this many seeds. */
const SEEDS_PER_FILL = 256;
const seedPool = new Uint32Array(4 * SEEDS_PER_FILL);
let seedsUsed = SEEDS_PER_FILL;

/**
 * 128 bits of state for xoshiro128**, from the OS's CSPRNG; never all zero.
 * Filled in blocks, as node:crypto's randomUUID does: one getRandomValues
 * call costs ~5 µs here, a third of a small request's drawing, and each seed
 * is handed out once. The global Web Crypto: this module imports nothing, so
 * a compute thread that loads it for the constants loads no more.
 */
export function freshSeed(): Uint32Array {
  for (;;) {
    if (seedsUsed === SEEDS_PER_FILL) {
      crypto.getRandomValues(seedPool);
      seedsUsed = 0;
    }
    const seed = seedPool.slice(4 * seedsUsed, 4 * ++seedsUsed);
    if ((seed[0] | seed[1] | seed[2] | seed[3]) !== 0) return seed;
  }
}

/**
 * Draws `n` uniform integers in RANDOM_MIN..RANDOM_MAX and counts them:
 * `counts[v]` is how often `v` came out (index 0 stays unused).
 *
 * xoshiro128** (Blackman & Vigna) passes BigCrush in every bit and needs only
 * 32-bit integer operations, which V8 keeps unboxed. Each output is cut into
 * three 10-bit fields (0..1023), each one draw; a field at or above the range
 * is rejected and more fields are drawn (2.3% of them): exact uniformity, no
 * modulo bias, no floating point. The hot loop has no branch on the values:
 * rejected fields land in spare buckets 1000..1023 that are never reported.
 */
export function countRandoms(
  n: number,
  seed: Uint32Array = freshSeed(),
): Uint32Array {
  const raw = new Uint32Array(1 << FIELD_BITS);
  let s0 = seed[0] | 0;
  let s1 = seed[1] | 0;
  let s2 = seed[2] | 0;
  let s3 = seed[3] | 0;
  let drawn = 0;
  while (drawn < n) {
    const x5 = Math.imul(s1, 5);
    const output = Math.imul((x5 << 7) | (x5 >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);

    const a = output >>> 22;
    if (drawn < n - 2) {
      // Three more draws cannot overshoot n: take all three fields.
      const b = (output >>> 12) & FIELD_MASK;
      const c = (output >>> 2) & FIELD_MASK;
      raw[a]++;
      raw[b]++;
      raw[c]++;
      drawn += +(a < RANGE) + +(b < RANGE) + +(c < RANGE);
    } else if (a < RANGE) {
      raw[a]++;
      drawn++;
    }
  }

  const counts = new Uint32Array(RANDOM_MAX + 1);
  counts.set(raw.subarray(0, RANGE), RANDOM_MIN);
  return counts;
}

/** Adds `part` into `total`, both as returned by countRandoms. */
export function addCounts(total: Uint32Array, part: Uint32Array): Uint32Array {
  for (let v = RANDOM_MIN; v <= RANDOM_MAX; v++) total[v] += part[v];
  return total;
}
