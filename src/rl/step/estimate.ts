// Phase 4, estimate: loss mask, per-token KL, token rewards and advantages (TypeScript).
import { computeAdvantages } from '../estimators.ts';
import { klPerToken, placeOutcomeRewards } from '../kl.ts';
import { tisWeights, weightAdvantages } from '../shaping.ts';
import type { Drawn, Estimated, Scored, StepContext } from './types.ts';

export function estimatePhase(ctx: StepContext, drawn: Drawn, scored: Scored): Estimated {
  const a = ctx.cfg.algo;
  const { batch, refLogprobs, oldLogprobs } = scored;
  const mask = lossMask(ctx, drawn);
  const klTok = refLogprobs
    ? klPerToken(oldLogprobs, refLogprobs, a.kl.estimator)
    : new Float32Array(mask.length);
  const klCoef = ctx.klCtl.coef;
  const inReward = a.kl.in === 'reward';
  const tokenRewards = placeOutcomeRewards(
    scored.scores,
    batch.responseOffsets,
    inReward && refLogprobs ? klTok : undefined,
    inReward ? klCoef : 0,
  );
  const { advantages, returns } = computeAdvantages(a.estimator, {
    tokenRewards,
    responseOffsets: batch.responseOffsets,
    groupSize: a.n_samples,
    ...(scored.values ? { values: scored.values } : {}),
    gamma: a.gamma,
    lambda: a.lambda,
    mask,
  });
  return { mask, klTok, klCoef, advantages: withTis(ctx, drawn, scored, advantages), returns };
}

/** 1 per token in the loss; 0 for the tokens of truncated responses under algo.mask_truncated. */
function lossMask(ctx: StepContext, drawn: Drawn): Uint8Array {
  const { genOffsets, samples } = drawn.train;
  const mask = new Uint8Array(drawn.train.genIds.length).fill(1);
  if (!ctx.cfg.algo.mask_truncated) return mask;
  for (let s = 0; s < samples.length; s++)
    if (!samples[s].finished) mask.fill(0, genOffsets[s], genOffsets[s + 1]);
  return mask;
}

/** Advantages × the TIS weights (see shaping.ts weightAdvantages) when algo.tis_cap is set. */
function withTis(ctx: StepContext, drawn: Drawn, scored: Scored, advantages: Float32Array): Float32Array {
  const cap = ctx.cfg.algo.tis_cap;
  if (cap === null || scored.trainerLogprobs === null) return advantages;
  return weightAdvantages(advantages, tisWeights(scored.trainerLogprobs, drawn.train.genLogprobs, cap));
}
