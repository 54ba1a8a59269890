import {
  type AdvantageInput,
  type AdvantageOutput,
  broadcastToTokens,
  numRows,
  sequenceScores,
} from './types.ts';

/**
 * REINFORCE Leave-One-Out (Ahmadian et al. 2024, https://arxiv.org/abs/2402.14740; Kool et al. 2019):
 * each sample's baseline is the mean score of the other n − 1 samples of its prompt,
 *
 *   A_i = s_i − (Σ_{j≠i} s_j)/(n − 1) = n/(n − 1) · (s_i − μ),
 *
 * written on every token of response i (× mask); returns = advantages. With n = 1 there is no other
 * sample and A_i = s_i (verl `compute_rloo_outcome_advantage`).
 * Shapes: tokenRewards, mask [T]; responseOffsets [R+1] → advantages, returns [T].
 */
export function rloo(input: AdvantageInput): AdvantageOutput {
  const n = input.groupSize;
  const s = sequenceScores(input);
  const a = new Float64Array(numRows(input));
  for (let g = 0; g < a.length; g += n) {
    let sum = 0;
    for (let i = g; i < g + n; i++) sum += s[i];
    for (let i = g; i < g + n; i++) a[i] = n > 1 ? s[i] - (sum - s[i]) / (n - 1) : s[i];
  }
  const advantages = broadcastToTokens(a, input);
  return { advantages, returns: advantages.slice() };
}
