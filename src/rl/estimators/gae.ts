import { type AdvantageInput, type AdvantageOutput, maskAt, maskedWhitenInPlace } from './types.ts';

/**
 * Generalised Advantage Estimation (Schulman et al. 2016, https://arxiv.org/abs/1506.02438), per
 * response, token by token from the end (the state after the last token is terminal, V = 0):
 *
 *   δ_t = r_t + γ·V_{t+1} − V_t,   A_t = δ_t + γλ·A_{t+1},   R_t = A_t + V_t
 *
 * Shapes: tokenRewards, values, mask [T]; responseOffsets [R+1] → advantages, returns [T].
 * Masked tokens are skipped as in verl `compute_gae_advantage_return`: the recursion passes over them
 * (V_{t+1} and A_{t+1} come from the next counted token) and they get advantage and return 0.
 * Advantages are then whitened over the batch's counted tokens unless `whiten` is false.
 */
export function gae(input: AdvantageInput): AdvantageOutput {
  const { tokenRewards: r, responseOffsets: off, mask } = input;
  const v = input.values as Float32Array;
  const gamma = input.gamma ?? 1;
  const lambda = input.lambda ?? 0.95;
  const numTokens = r.length;
  const adv = new Float64Array(numTokens);
  const returns = new Float32Array(numTokens);
  for (let b = 0; b + 1 < off.length; b++) {
    let nextValue = 0;
    let nextAdv = 0;
    for (let t = off[b + 1] - 1; t >= off[b]; t--) {
      if (!maskAt(mask, t)) continue;
      const delta = r[t] + gamma * nextValue - v[t];
      nextAdv = delta + gamma * lambda * nextAdv;
      nextValue = v[t];
      adv[t] = nextAdv;
      returns[t] = nextAdv + v[t];
    }
  }
  if (input.whiten ?? true) maskedWhitenInPlace(adv, mask);
  return { advantages: Float32Array.from(adv), returns };
}
