// Reward and loss shapings of the 2025 recipes, as pure functions over flat arrays (TypeScript decides
// what is optimised; the engine only computes tensors).

/**
 * DAPO's soft overlong punishment (Yu et al. 2025, arXiv:2503.14476, eq. 13), added to the reward of a
 * response of `numTokens` tokens (the stop token included, as verl's valid response length) under the
 * limit `maxTokens`: 0 up to maxTokens - buffer, then falling linearly to -factor at maxTokens.
 *   penalty = min(0, -(numTokens - (maxTokens - buffer)) / buffer) × factor
 */
export function overlongPenalty(
  numTokens: number,
  maxTokens: number,
  buffer: number,
  factor: number,
): number {
  const exceed = numTokens - (maxTokens - buffer);
  return exceed <= 0 ? 0 : -Math.min(exceed, buffer) * (factor / buffer);
}

/**
 * Truncated importance sampling (Yao et al. 2025, "Your efficient RL framework secretly brings you
 * off-policy RL training"; verl `tis_imp_ratio_cap`): per token w = min(exp(trainer - generator), cap),
 * the trainer's over the generator's probability of the sampled token, detached and capped.
 */
export function tisWeights(trainer: Float32Array, generator: Float32Array, cap: number): Float32Array {
  const w = new Float32Array(trainer.length);
  for (let t = 0; t < w.length; t++) w[t] = Math.min(Math.exp(trainer[t] - generator[t]), cap);
  return w;
}

/**
 * The policy loss weighted by w > 0 per token equals the loss with advantages A × w: every term of the
 * clipped surrogate (both branches, the max, the dual-clip min) is linear in A with the same sign, so
 * w factors out; KL and entropy terms do not involve A and stay unweighted, as in verl's TIS.
 */
export function weightAdvantages(advantages: Float32Array, weights: Float32Array): Float32Array {
  return Float32Array.from(advantages, (a, t) => a * weights[t]);
}

/** |trainer - generator| log-prob gap over the masked tokens: its largest and mean value. */
export function mismatchStats(
  trainer: Float32Array,
  generator: Float32Array,
  mask: Uint8Array,
): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let count = 0;
  for (let t = 0; t < trainer.length; t++) {
    if (!mask[t]) continue;
    const d = Math.abs(trainer[t] - generator[t]);
    if (d > max) max = d;
    sum += d;
    count++;
  }
  return { max, mean: count > 0 ? sum / count : 0 };
}
