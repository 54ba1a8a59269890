// Phases 1 + 2 for a whole step: rollout and grade, round after round under dynamic sampling (DAPO, Yu et
// al. 2025, arXiv:2503.14476 §3.2): keep drawing algo.prompts_per_step further prompts until the batch
// holds prompts_per_step groups with mixed rewards, at most algo.max_sampling_rounds rounds. The sampler
// only moves forward, so its saved position stays exact for resume; seeds continue the step's numbering.
import { concatGraded, gradeRollout, keptGroups, selectGraded } from './grade.ts';
import { concatRollouts, generateRound, selectGroups } from './rollout.ts';
import type { Drawn, Graded, Rollout, StepContext } from './types.ts';

export async function drawPhase(ctx: StepContext): Promise<Drawn> {
  const a = ctx.cfg.algo;
  const epoch = ctx.sampler.currentEpoch;
  let all: Rollout | null = null;
  let allGraded: Graded | null = null;
  let generateSeconds = 0;
  let rewardSeconds = 0;
  let numRounds = 0;
  for (;;) {
    const t0 = performance.now();
    const r = await generateRound(ctx, a.prompts_per_step, numRounds * a.prompts_per_step);
    const t1 = performance.now();
    const g = await gradeRollout(ctx, r);
    generateSeconds += (t1 - t0) / 1000;
    rewardSeconds += (performance.now() - t1) / 1000;
    all = all === null ? r : concatRollouts(all, r);
    allGraded = allGraded === null ? g : concatGraded(allGraded, g);
    numRounds++;
    if (!a.dynamic_sampling || numRounds >= a.max_sampling_rounds) break;
    if (mixedGroups(ctx, all, allGraded).length >= a.prompts_per_step) break;
  }
  const groups = a.dynamic_sampling
    ? mixedGroups(ctx, all, allGraded!).slice(0, a.prompts_per_step)
    : all.picked.map((_, g) => g);
  const train = a.dynamic_sampling ? selectGroups(all, a.n_samples, groups) : all;
  const trainGraded = a.dynamic_sampling ? selectGraded(allGraded!, a.n_samples, groups) : allGraded!;
  return {
    epoch,
    all,
    allGraded: allGraded!,
    train,
    trainGraded,
    numPromptsDrawn: all.picked.length,
    numPromptsDropped: all.picked.length - train.picked.length,
    numRounds,
    generateSeconds,
    rewardSeconds,
  };
}

function mixedGroups(ctx: StepContext, r: Rollout, g: Graded): number[] {
  return keptGroups(g.scores, ctx.cfg.algo.n_samples, r.picked.length, true);
}
