// Phase 3, score: rewards after shaping, and the per-token log-probs / values of the training batch.
import { buildBatch } from '../batch.ts';
import { overlongPenalty } from '../shaping.ts';
import type { Drawn, Scored, StepContext } from './types.ts';

export async function scorePhase(ctx: StepContext, drawn: Drawn): Promise<Scored> {
  const { cfg, engine } = ctx;
  const a = cfg.algo;
  const r = drawn.train;
  const batch = buildBatch(r.promptIds, a.n_samples, r.genIds, r.genOffsets);
  const seqs = { ids: batch.ids, offsets: batch.offsets, promptLens: batch.promptLens };
  const temperature = cfg.rollout.temperature > 0 ? cfg.rollout.temperature : 1;
  const microBatchTokens = cfg.optim.micro_batch_tokens;
  // dynamic sampling can leave no group at all (every round uniform): nothing to score
  const isEmpty = r.picked.length === 0;
  const logprobsOf = async (role: 'policy' | 'ref') =>
    isEmpty
      ? new Float32Array(0)
      : (await engine.forward(seqs, { role, outputs: ['logprobs'], temperature, microBatchTokens }))
          .logprobs!;
  const trainerLogprobs = a.recompute_logprobs || a.tis_cap !== null ? await logprobsOf('policy') : null;
  const useRef = a.kl.coef > 0 || a.kl.adaptive !== null;
  const refLogprobs = useRef ? await logprobsOf('ref') : null;
  const values =
    a.name !== 'ppo'
      ? null
      : isEmpty
        ? new Float32Array(0)
        : (await engine.forward(seqs, { role: 'critic', outputs: ['values'], microBatchTokens })).values!;
  const overlong = overlongPenalties(ctx, drawn);
  return {
    batch,
    scores: Float32Array.from(drawn.trainGraded.scores, (s, i) => s + overlong[i]),
    overlongPenalty: overlong,
    oldLogprobs: trainerLogprobs ?? r.genLogprobs,
    trainerLogprobs,
    refLogprobs,
    values,
    temperature,
  };
}

function overlongPenalties(ctx: StepContext, drawn: Drawn): Float32Array {
  const a = ctx.cfg.algo;
  const out = new Float32Array(drawn.train.samples.length);
  if (a.overlong_buffer === null) return out;
  const maxTokens = ctx.cfg.rollout.max_new_tokens;
  drawn.train.samples.forEach((s, i) => {
    out[i] = overlongPenalty(s.numTokens, maxTokens, a.overlong_buffer!, a.overlong_penalty);
  });
  return out;
}
