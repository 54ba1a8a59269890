// Phase 5, update: mini-batches of whole groups, algo.ppo_epochs passes, actor (and critic) steps.
import type { TrainStats } from '../../engine/index.ts';
import { type RolloutBatch, selectSamples } from '../batch.ts';
import { lossAggregation } from '../loss-aggs.ts';
import { shuffled } from '../seeds.ts';
import { keptGroups } from './grade.ts';
import type { Drawn, Estimated, Scored, StepContext, Updated } from './types.ts';

type Arrays = Record<string, Float32Array | Uint8Array>;

export async function updatePhase(
  ctx: StepContext,
  drawn: Drawn,
  scored: Scored,
  est: Estimated,
): Promise<Updated> {
  const { cfg, step } = ctx;
  const a = cfg.algo;
  const n = a.n_samples;
  const isPpo = a.name === 'ppo';
  const groups = keptGroups(drawn.trainGraded.scores, n, drawn.train.picked.length, a.drop_uniform_groups);
  const arrays: Arrays = {
    mask: est.mask,
    advantages: est.advantages,
    oldLogprobs: scored.oldLogprobs,
    ...(scored.refLogprobs && a.kl.in === 'loss' ? { refLogprobs: scored.refLogprobs } : {}),
    ...(isPpo ? { returns: est.returns, oldValues: scored.values! } : {}),
  };
  const actorStats: TrainStats[] = [];
  const criticStats: TrainStats[] = [];
  for (let e = 0; e < a.ppo_epochs; e++) {
    const order = shuffled(groups, cfg.run.seed, step, e);
    for (let g0 = 0; g0 < order.length; g0 += a.mini_batch_size) {
      const idx = order
        .slice(g0, g0 + a.mini_batch_size)
        .flatMap((g) => Array.from({ length: n }, (_, j) => g * n + j));
      const sub = selectSamples(scored.batch, arrays, idx);
      // A mini-batch whose every token is masked (all truncated under mask_truncated) has no loss.
      if (!(sub.arrays.mask as Uint8Array).includes(1)) continue;
      actorStats.push(await trainActor(ctx, sub.batch, sub.arrays, est.klCoef, scored.temperature));
      if (isPpo) criticStats.push(await trainCritic(ctx, sub.batch, sub.arrays));
    }
  }
  return { actorStats, criticStats, numGroupsKept: groups.length };
}

/** The engine loss: algo.policy_loss, else the one named like the algorithm. */
export function policyLossName(ctx: StepContext): 'ppo' | 'grpo' | 'gspo' {
  return ctx.cfg.algo.policy_loss ?? ctx.cfg.algo.name;
}

/** The policy loss's loss_args: GSPO gets algo.gspo_clip*, the token-ratio losses algo.clip* and dual_clip. */
export function lossArgs(ctx: StepContext, klCoef: number, agg: string): Record<string, unknown> {
  const a = ctx.cfg.algo;
  const kl = { kl_coef: a.kl.in === 'loss' ? klCoef : 0, kl_estimator: a.kl.estimator };
  const common = { ...kl, entropy_coef: a.entropy_coef, agg };
  if (policyLossName(ctx) === 'gspo')
    return { clip_eps: a.gspo_clip, clip_eps_high: a.gspo_clip_high ?? a.gspo_clip, ...common };
  return { clip_eps: a.clip, clip_eps_high: a.clip_high ?? a.clip, dual_clip: a.dual_clip, ...common };
}

/** The rows every train call sends: token ids, response layout and the loss mask. */
function trainRows(batch: RolloutBatch, arrays: Arrays) {
  return {
    ids: batch.ids,
    offsets: batch.offsets,
    promptLens: batch.promptLens,
    mask: arrays.mask as Uint8Array,
  };
}

async function trainActor(
  ctx: StepContext,
  batch: RolloutBatch,
  arrays: Arrays,
  klCoef: number,
  temperature: number,
): Promise<TrainStats> {
  const agg = lossAggregation(ctx.cfg);
  return ctx.engine.train(
    {
      ...trainRows(batch, arrays),
      advantages: arrays.advantages as Float32Array,
      oldLogprobs: arrays.oldLogprobs as Float32Array,
      ...(arrays.refLogprobs ? { refLogprobs: arrays.refLogprobs as Float32Array } : {}),
    },
    {
      role: 'policy',
      loss: policyLossName(ctx),
      lossArgs: lossArgs(ctx, klCoef, agg.engineAgg),
      temperature,
      microBatchTokens: ctx.cfg.optim.micro_batch_tokens,
      ...(agg.lossNorm !== null ? { lossNorm: agg.lossNorm } : {}),
    },
  );
}

async function trainCritic(ctx: StepContext, batch: RolloutBatch, arrays: Arrays): Promise<TrainStats> {
  return ctx.engine.train(
    {
      ...trainRows(batch, arrays),
      returns: arrays.returns as Float32Array,
      oldValues: arrays.oldValues as Float32Array,
    },
    {
      role: 'critic',
      loss: 'value',
      lossArgs: { clip_eps: ctx.cfg.algo.value_clip, agg: lossAggregation(ctx.cfg).engineAgg },
      microBatchTokens: ctx.cfg.optim.micro_batch_tokens,
    },
  );
}
