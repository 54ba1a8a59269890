// Loss aggregations by name: how the engine turns per-token losses into the scalar of one optimiser
// step (engine `aggregate(loss, mask, resp_lens, agg, norm)` = Σ … / norm).
import type { ResolvedConfig } from '../config/resolve.ts';
import type { LossAggName } from './names.ts';

export interface LossAggSpec {
  /** The engine's aggregation (engine/simplerl_engine/losses.py AGGS). */
  engineAgg: 'token-mean' | 'seq-mean-token-mean' | 'seq-mean-token-sum';
  /** The fixed denominator of every optimiser step, or null for the engine's default. */
  lossNorm: (cfg: ResolvedConfig) => number | null;
  description: string;
}

/** Dr. GRPO's constant: mini_batch_size × n_samples × max_new_tokens under algo.loss_norm=constant. */
function constantNorm(cfg: ResolvedConfig): number | null {
  const a = cfg.algo;
  return a.loss_norm === 'constant' ? a.mini_batch_size * a.n_samples * cfg.rollout.max_new_tokens : null;
}

export const LOSS_AGGS = {
  'token-mean': {
    engineAgg: 'token-mean',
    lossNorm: constantNorm,
    description: 'Σ masked token losses / masked tokens of the mini-batch (or the loss_norm constant)',
  },
  'seq-mean-token-mean': {
    engineAgg: 'seq-mean-token-mean',
    lossNorm: constantNorm,
    description: 'mean over sequences of each sequence token mean (GRPO paper)',
  },
  'seq-mean-token-sum': {
    engineAgg: 'seq-mean-token-sum',
    lossNorm: constantNorm,
    description: 'mean over sequences of each sequence token sum',
  },
  // verl agg_loss "seq-mean-token-sum-norm": torch.sum(seq_losses) / loss_mask.shape[-1], where the last
  // dimension is the padded response length (= the rollout limit). loss_norm=constant differs from it by
  // the constant factor mini_batch_size × n_samples, hence its own name.
  'seq-mean-token-sum-norm': {
    engineAgg: 'seq-mean-token-sum',
    lossNorm: (cfg) => cfg.rollout.max_new_tokens,
    description: 'Σ masked token losses / rollout.max_new_tokens (verl seq-mean-token-sum-norm, Dr. GRPO)',
  },
} as const satisfies Record<LossAggName, LossAggSpec>;

export function lossAggregation(cfg: ResolvedConfig): { engineAgg: string; lossNorm: number | null } {
  const spec: LossAggSpec = LOSS_AGGS[cfg.algo.loss_agg];
  return { engineAgg: spec.engineAgg, lossNorm: spec.lossNorm(cfg) };
}
