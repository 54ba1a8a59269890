import {
  type AdvantageInput,
  type AdvantageOutput,
  broadcastToTokens,
  GRPO_EPS,
  numRows,
  sequenceScores,
} from './types.ts';

/**
 * Group-relative outcome advantage over the n samples of each prompt. With s_i the sum of the token
 * rewards of response i and μ, σ the mean and unbiased standard deviation of its group:
 *
 *   grpo:        A_i = (s_i − μ) / (σ + 1e-6)      (Shao et al. 2024, DeepSeekMath, https://arxiv.org/abs/2402.03300)
 *   grpo-no-std: A_i = s_i − μ                      (Liu et al. 2025, Dr. GRPO, https://arxiv.org/abs/2503.20783)
 *
 * A_i is written on every token of response i (× mask); returns = advantages (as verl). A group of one
 * response uses μ = 0, σ = 1, as verl `compute_grpo_outcome_advantage`.
 * Shapes: tokenRewards, mask [T]; responseOffsets [R+1], R = groups × groupSize → advantages, returns [T].
 */
function groupNormalised(input: AdvantageInput, divideByStd: boolean): AdvantageOutput {
  const n = input.groupSize;
  const s = sequenceScores(input);
  const a = new Float64Array(numRows(input));
  for (let g = 0; g < a.length; g += n) {
    let mean = 0;
    let std = 1;
    if (n > 1) {
      let sum = 0;
      for (let i = g; i < g + n; i++) sum += s[i];
      mean = sum / n;
      let ss = 0;
      for (let i = g; i < g + n; i++) ss += (s[i] - mean) ** 2;
      std = Math.sqrt(ss / (n - 1));
    }
    for (let i = g; i < g + n; i++) a[i] = divideByStd ? (s[i] - mean) / (std + GRPO_EPS) : s[i] - mean;
  }
  const advantages = broadcastToTokens(a, input);
  return { advantages, returns: advantages.slice() };
}

export function grpo(input: AdvantageInput): AdvantageOutput {
  return groupNormalised(input, true);
}

export function grpoNoStd(input: AdvantageInput): AdvantageOutput {
  return groupNormalised(input, false);
}
