// The controller's randomness is stateless: every draw is a hash of (run seed, step, index), so a
// resumed run draws exactly what an uninterrupted one would (no RNG state to save but the seed).

/** lowbias32 integer hash. */
export function hash32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a tuple of integers (order matters). */
export function hashInts(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) h = hash32(h ^ hash32(x >>> 0) ^ Math.imul(Math.floor(x / 2 ** 32) >>> 0, 0x85ebca6b));
  return h;
}

const SAMPLING_STREAM = 1;
const SHUFFLE_STREAM = 2;

/** Engine sampling seed of prompt `promptIndex` (its place in the step) of step `step`: 0 ≤ seed < 2^31. */
export function samplingSeed(runSeed: number, step: number, promptIndex: number): number {
  return hashInts(SAMPLING_STREAM, runSeed, step, promptIndex) & 0x7fffffff;
}

/** mulberry32 uniform generator in [0, 1). */
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

/** Order of `items` for mini-batch `epoch` of `step` (Fisher-Yates, deterministic). */
export function shuffled<T>(items: readonly T[], runSeed: number, step: number, epoch: number): T[] {
  const rand = mulberry32(hashInts(SHUFFLE_STREAM, runSeed, step, epoch));
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** FNV-1a of a string, as 8 hex digits (fingerprints of the training data). */
export function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
