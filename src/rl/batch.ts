// The rollout batch of one step, flat: sample s (prompt-major, s = prompt · n + j) is the prompt's ids
// followed by its response ids; per-token arrays cover response tokens only (PROTOCOL.md "Ragged
// batches"), so they share `responseOffsets`.

export interface RolloutBatch {
  /** Full sequences back to back (prompt + response). */
  ids: Int32Array;
  /** Length numSamples + 1. */
  offsets: Int32Array;
  /** Prompt length of each sample. */
  promptLens: Int32Array;
  /** Offsets of each sample's response tokens in the per-token arrays (length numSamples + 1). */
  responseOffsets: Int32Array;
}

/** Per-token arrays of a batch, all aligned with `responseOffsets`. */
export type TokenArrays = Record<string, Float32Array | Uint8Array>;

/** Concatenates each prompt (repeated n times) with its responses. */
export function buildBatch(
  prompts: ArrayLike<number>[],
  n: number,
  responseIds: ArrayLike<number>,
  responseOffsets: ArrayLike<number>,
): RolloutBatch {
  const numSamples = prompts.length * n;
  if (responseOffsets.length !== numSamples + 1) {
    throw new Error(
      `buildBatch: ${responseOffsets.length - 1} responses for ${prompts.length} prompts × n=${n}`,
    );
  }
  let total = 0;
  for (let s = 0; s < numSamples; s++) total += prompts[Math.floor(s / n)].length;
  total += responseOffsets[numSamples] - responseOffsets[0];
  const ids = new Int32Array(total);
  const offsets = new Int32Array(numSamples + 1);
  const promptLens = new Int32Array(numSamples);
  let at = 0;
  for (let s = 0; s < numSamples; s++) {
    const p = prompts[Math.floor(s / n)];
    for (let i = 0; i < p.length; i++) ids[at++] = p[i];
    for (let k = responseOffsets[s]; k < responseOffsets[s + 1]; k++) ids[at++] = responseIds[k];
    promptLens[s] = p.length;
    offsets[s + 1] = at;
  }
  return { ids, offsets, promptLens, responseOffsets: Int32Array.from(responseOffsets) };
}

/** The sub-batch of the given samples (in the given order) with their per-token arrays. */
export function selectSamples<T extends TokenArrays>(
  batch: RolloutBatch,
  arrays: T,
  samples: readonly number[],
): { batch: RolloutBatch; arrays: T } {
  let numIds = 0;
  let numResp = 0;
  for (const s of samples) {
    numIds += batch.offsets[s + 1] - batch.offsets[s];
    numResp += batch.responseOffsets[s + 1] - batch.responseOffsets[s];
  }
  const ids = new Int32Array(numIds);
  const offsets = new Int32Array(samples.length + 1);
  const promptLens = new Int32Array(samples.length);
  const responseOffsets = new Int32Array(samples.length + 1);
  const out: Record<string, Float32Array | Uint8Array> = {};
  for (const [k, v] of Object.entries(arrays))
    out[k] = new (v.constructor as Float32ArrayConstructor)(numResp);
  let at = 0;
  let rat = 0;
  samples.forEach((s, i) => {
    ids.set(batch.ids.subarray(batch.offsets[s], batch.offsets[s + 1]), at);
    at += batch.offsets[s + 1] - batch.offsets[s];
    const r0 = batch.responseOffsets[s];
    const r1 = batch.responseOffsets[s + 1];
    for (const [k, v] of Object.entries(arrays)) out[k].set(v.subarray(r0, r1), rat);
    rat += r1 - r0;
    offsets[i + 1] = at;
    promptLens[i] = batch.promptLens[s];
    responseOffsets[i + 1] = rat;
  });
  return { batch: { ids, offsets, promptLens, responseOffsets }, arrays: out as T };
}

/** Mean over samples of a per-sample value. */
export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Sum of `values` over each sample's response tokens, counting only tokens where mask is 1. */
export function perSampleSum(
  values: Float32Array,
  responseOffsets: Int32Array,
  mask?: Uint8Array,
): Float64Array {
  const out = new Float64Array(responseOffsets.length - 1);
  for (let s = 0; s < out.length; s++) {
    let acc = 0;
    for (let k = responseOffsets[s]; k < responseOffsets[s + 1]; k++) if (!mask || mask[k]) acc += values[k];
    out[s] = acc;
  }
  return out;
}

/** Mean of `values` over tokens where mask is 1 (0 when none). */
export function maskedMean(values: Float32Array, mask?: Uint8Array): number {
  let s = 0;
  let c = 0;
  for (let k = 0; k < values.length; k++) {
    if (mask && !mask[k]) continue;
    s += values[k];
    c++;
  }
  return c === 0 ? 0 : s / c;
}

/** Sequences back to back with offsets (the engine's ragged form). */
export function flattenSeqs(seqs: Int32Array[]): { ids: Int32Array; offsets: Int32Array } {
  const offsets = new Int32Array(seqs.length + 1);
  for (let i = 0; i < seqs.length; i++) offsets[i + 1] = offsets[i] + seqs[i].length;
  const ids = new Int32Array(offsets[seqs.length]);
  for (let i = 0; i < seqs.length; i++) ids.set(seqs[i], offsets[i]);
  return { ids, offsets };
}
