// Ragged batches travel flat: all values back to back plus offsets (length B + 1, offsets[0] = 0).
import type { Ragged } from './types.ts';

export function toRagged(seqs: number[][]): Ragged {
  const offsets = new Int32Array(seqs.length + 1);
  for (let b = 0; b < seqs.length; b++) offsets[b + 1] = offsets[b] + seqs[b].length;
  const ids = new Int32Array(offsets[seqs.length]);
  for (let b = 0; b < seqs.length; b++) ids.set(seqs[b], offsets[b]);
  return { ids, offsets };
}

export function fromRagged(r: Ragged): number[][] {
  const out: number[][] = [];
  for (let b = 0; b + 1 < r.offsets.length; b++)
    out.push(Array.from(r.ids.subarray(r.offsets[b], r.offsets[b + 1])));
  return out;
}

/** Splits a flat per-token array by offsets (e.g. generate's log-probs by its offsets). */
export function splitByOffsets<T extends Float32Array | Int32Array>(values: T, offsets: Int32Array): T[] {
  const out: T[] = [];
  for (let b = 0; b + 1 < offsets.length; b++) out.push(values.subarray(offsets[b], offsets[b + 1]) as T);
  return out;
}
