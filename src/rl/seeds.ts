// The controller's randomness is stateless: every draw is a hash of (run seed, step, index), so a
// resumed run draws exactly what an uninterrupted one would (no RNG state to save but the seed).
import { hash32, mulberry32 } from '../util/random.ts';

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
