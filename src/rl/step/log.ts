// Phase 6, log: the metrics row of the step and its rollouts file.
import { reflectionMetrics } from '../../analysis/reflection.ts';
import type { TrainStats } from '../../engine/index.ts';
import { type MetricsRow, type RolloutRow, writeRollouts } from '../../run/index.ts';
import { maskedMean, mean, perSampleSum } from '../batch.ts';
import { mismatchStats } from '../shaping.ts';
import type { Drawn, Estimated, Scored, StepContext, Updated } from './types.ts';

export interface StepTimes {
  t0: number;
  t3: number;
  t4: number;
}

/** Updates the KL controller and returns the step's metrics row. */
export function logPhase(
  ctx: StepContext,
  drawn: Drawn,
  scored: Scored,
  est: Estimated,
  upd: Updated,
  times: StepTimes,
): MetricsRow {
  const { samples } = drawn.all;
  const { grades, scores } = drawn.allGraded;
  const klSeq = perSampleSum(est.klTok, scored.batch.responseOffsets, est.mask);
  ctx.klCtl.update(mean(klSeq), drawn.train.samples.length);
  const isPpo = ctx.cfg.algo.name === 'ppo';
  const lens = samples.map((s) => s.numTokens);
  const seconds = (times.t4 - times.t0) / 1000;
  const rewardMean = mean(scores);
  const numTokens = drawn.all.genIds.length;
  const numPromptTokens = drawn.all.promptIds.reduce((s, p) => s + p.length, 0);
  const row: MetricsRow = {
    step: ctx.step,
    time: new Date().toISOString(),
    'data/epoch': drawn.epoch,
    'reward/mean': rewardMean,
    'reward/std': Math.sqrt(mean(Array.from(scores, (x) => (x - rewardMean) ** 2))),
    'acc/train': mean(grades.map((g) => (g.correct ? 1 : 0))),
    'format/rate': mean(grades.map((g) => (g.formatted ? 1 : 0))),
    'response_len/mean': mean(lens),
    'response_len/max': Math.max(...lens),
    'response_len/clip_rate': mean(samples.map((s) => (s.finished ? 0 : 1))),
    ...reflectionMetrics(
      samples.map((s) => s.text),
      grades.map((g) => g.correct),
    ),
    'kl/mean': maskedMean(est.klTok, est.mask),
    'kl/coef': est.klCoef,
    'train/groups_kept': upd.numGroupsKept / drawn.all.picked.length,
    ...recipeMetrics(ctx, drawn, scored, est),
    ...aggregate('actor', upd.actorStats),
    ...(isPpo ? aggregate('critic', upd.criticStats) : {}),
    ...(isPpo ? { 'critic/values_mean': maskedMean(scored.values!, est.mask) } : {}),
    'perf/tokens_per_s': (numTokens + numPromptTokens) / seconds,
    'perf/gen_tokens_per_s': numTokens / Math.max(1e-9, drawn.generateSeconds),
    'time/generate_s': drawn.generateSeconds,
    'time/reward_s': drawn.rewardSeconds,
    'time/forward_s': (times.t3 - times.t0) / 1000 - drawn.generateSeconds - drawn.rewardSeconds,
    'time/train_s': (times.t4 - times.t3) / 1000,
    'time/step_s': seconds,
  };
  writeStepRollouts(ctx, drawn);
  return row;
}

/** Metrics of the options of issue 18, present only when the option is on (or measurable). */
function recipeMetrics(
  ctx: StepContext,
  drawn: Drawn,
  scored: Scored,
  est: Estimated,
): Record<string, number> {
  const a = ctx.cfg.algo;
  const out: Record<string, number> = {};
  if (a.dynamic_sampling) {
    out['sampling/prompts_drawn'] = drawn.numPromptsDrawn;
    out['sampling/prompts_dropped'] = drawn.numPromptsDropped;
    out['sampling/rounds'] = drawn.numRounds;
  }
  if (a.overlong_buffer !== null) out['reward/overlong_penalty'] = mean(scored.overlongPenalty);
  if (scored.trainerLogprobs !== null) {
    const m = mismatchStats(scored.trainerLogprobs, drawn.train.genLogprobs, est.mask);
    out['mismatch/abs_logprob_max'] = m.max;
    out['mismatch/abs_logprob_mean'] = m.mean;
  }
  return out;
}

/**
 * Token-weighted means of the per-mini-batch stats; keys `<prefix>/pg_loss`, ... A non-finite value
 * makes its mean non-finite, so that the divergence check (divergence.ts) sees it.
 */
export function aggregate(prefix: 'actor' | 'critic', stats: TrainStats[]): Record<string, number> {
  if (stats.length === 0) return {};
  const keys: [keyof TrainStats, string][] =
    prefix === 'actor'
      ? [
          ['loss', 'loss'],
          ['pgLoss', 'pg_loss'],
          ['kl', 'kl_loss'],
          ['entropy', 'entropy'],
          ['clipFrac', 'clip_frac'],
          ['ratioMean', 'ratio_mean'],
          ['gradNorm', 'grad_norm'],
        ]
      : [
          ['vfLoss', 'vf_loss'],
          ['vfClipFrac', 'vf_clip_frac'],
          ['gradNorm', 'grad_norm'],
        ];
  const out: Record<string, number> = {};
  for (const [k, name] of keys) {
    let s = 0;
    let w = 0;
    for (const st of stats) {
      const v = st[k];
      if (typeof v !== 'number') continue;
      s += v * Math.max(1, st.numTokens);
      w += Math.max(1, st.numTokens);
    }
    if (w > 0) out[`${prefix}/${name}`] = s / w;
  }
  out[`${prefix}/lr`] = stats[stats.length - 1].lr;
  return out;
}

function writeStepRollouts(ctx: StepContext, drawn: Drawn): void {
  const limit = ctx.cfg.run.log_rollouts;
  if (limit === 0) return;
  const { samples } = drawn.all;
  const { grades, scores } = drawn.allGraded;
  const num = limit === null ? samples.length : Math.min(limit, samples.length);
  const rows: RolloutRow[] = [];
  for (let s = 0; s < num; s++) {
    rows.push({
      step: ctx.step,
      prompt_id: samples[s].item.id,
      prompt: samples[s].item.prompt,
      response: samples[s].text,
      gold: samples[s].item.answer,
      extracted: grades[s].extracted,
      correct: grades[s].correct,
      reward: scores[s],
      finished: samples[s].finished,
      num_tokens: samples[s].numTokens,
    });
  }
  writeRollouts(ctx.paths, ctx.step, rows);
}
