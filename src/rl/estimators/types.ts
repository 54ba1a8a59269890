/**
 * Shared input/output of the advantage estimators. A batch of R responses travels flat: token t of
 * response b is index `responseOffsets[b] + t`; rows are prompt-major, so responses
 * `g*groupSize .. (g+1)*groupSize - 1` are the samples of prompt g.
 */
export interface AdvantageInput {
  /** [T] per response token: the outcome score on the last token plus the per-token KL penalty. */
  tokenRewards: Float32Array;
  /** [R+1] offsets of the responses in the token arrays; responseOffsets[0] = 0, [R] = T. */
  responseOffsets: Int32Array;
  /** Samples per prompt (n); R must be a multiple of it for the group estimators. */
  groupSize: number;
  /** [T] critic values V(s_t) of the state before each response token (needed by `gae`). */
  values?: Float32Array;
  /** Discount γ (default 1, the recipe's value). */
  gamma?: number;
  /** GAE λ (default 0.95, the recipe's value). */
  lambda?: number;
  /** [T] 1 = the token counts; masked tokens get advantage 0 and stay out of whitening statistics. */
  mask?: Uint8Array;
  /** Whiten GAE advantages over the batch's masked tokens (default true, as verl and OpenRLHF do). */
  whiten?: boolean;
}

export interface AdvantageOutput {
  /** [T] per-token advantages (0 on masked tokens). */
  advantages: Float32Array;
  /** [T] per-token returns: value targets for the critic (gae) or the discounted return. */
  returns: Float32Array;
}

export type AdvantageEstimator = (input: AdvantageInput) => AdvantageOutput;

/** Whitening epsilon of verl's `masked_whiten` (inside the square root). */
export const WHITEN_EPS = 1e-8;
/** GRPO's epsilon added to the group standard deviation (verl default). */
export const GRPO_EPS = 1e-6;

/** Number of responses R. */
export function numRows(input: AdvantageInput): number {
  return input.responseOffsets.length - 1;
}

export function maskAt(mask: Uint8Array | undefined, t: number): number {
  return mask === undefined ? 1 : mask[t] ? 1 : 0;
}

/** Sum of the token rewards of each response: the sequence score of the outcome estimators. [R] */
export function sequenceScores(input: AdvantageInput): Float64Array {
  const { tokenRewards: r, responseOffsets: off } = input;
  const scores = new Float64Array(off.length - 1);
  for (let b = 0; b < scores.length; b++) {
    let s = 0;
    for (let t = off[b]; t < off[b + 1]; t++) s += r[t];
    scores[b] = s;
  }
  return scores;
}

/**
 * In place: x ← (x − mean) / sqrt(var + 1e-8) over the tokens with mask 1, with the unbiased
 * variance (verl `masked_whiten`); masked tokens are set to 0. With fewer than two counted tokens the
 * variance is taken as 0 (only the mean is removed).
 */
export function maskedWhitenInPlace(x: Float64Array, mask: Uint8Array | undefined): void {
  let n = 0;
  let sum = 0;
  for (let t = 0; t < x.length; t++)
    if (maskAt(mask, t)) {
      n++;
      sum += x[t];
    }
  const mean = n > 0 ? sum / n : 0;
  let ss = 0;
  for (let t = 0; t < x.length; t++) if (maskAt(mask, t)) ss += (x[t] - mean) ** 2;
  const variance = n > 1 ? ss / (n - 1) : 0;
  const inv = 1 / Math.sqrt(variance + WHITEN_EPS);
  for (let t = 0; t < x.length; t++) x[t] = maskAt(mask, t) ? (x[t] - mean) * inv : 0;
}

/** Writes one score per response onto its tokens (× mask). */
export function broadcastToTokens(perRow: Float64Array, input: AdvantageInput): Float32Array {
  const { responseOffsets: off, mask } = input;
  const out = new Float32Array(input.tokenRewards.length);
  for (let b = 0; b < perRow.length; b++)
    for (let t = off[b]; t < off[b + 1]; t++) out[t] = maskAt(mask, t) ? perRow[b] : 0;
  return out;
}
