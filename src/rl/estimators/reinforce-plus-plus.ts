import { type AdvantageInput, type AdvantageOutput, maskedWhitenInPlace } from './types.ts';

/**
 * REINFORCE++ (Hu 2025, https://arxiv.org/abs/2501.03262): the discounted return of the token rewards
 * (which carry the per-token KL penalty), whitened over the whole batch instead of a critic baseline:
 *
 *   G_t = r_t + γ·G_{t+1} (G after the last token = 0),   A_t = (G_t − mean(G)) / sqrt(var(G) + 1e-8)
 *
 * mean and unbiased var over the counted (mask 1) tokens of the batch; masked tokens get advantage 0
 * (their reward still flows into G of earlier tokens: the flat layout has no padding).
 * Shapes: tokenRewards, mask [T]; responseOffsets [R+1] → advantages [T], returns G [T].
 */
export function reinforcePlusPlus(input: AdvantageInput): AdvantageOutput {
  const { tokenRewards: r, responseOffsets: off } = input;
  const gamma = input.gamma ?? 1;
  const g = new Float64Array(r.length);
  for (let b = 0; b + 1 < off.length; b++) {
    let running = 0;
    for (let t = off[b + 1] - 1; t >= off[b]; t--) {
      running = r[t] + gamma * running;
      g[t] = running;
    }
  }
  const returns = Float32Array.from(g);
  maskedWhitenInPlace(g, input.mask);
  return { advantages: Float32Array.from(g), returns };
}
