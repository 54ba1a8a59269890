// Phase 1, rollout: draw prompts from the sampler and generate n responses each.
import { flattenSeqs } from '../batch.ts';
import { samplingSeed } from '../seeds.ts';
import type { Rollout, Sample, StepContext } from './types.ts';

/**
 * Draws `numPrompts` prompts and generates for them. `seedIndex0` is the index (within the step) of the
 * first prompt: sampling seeds are (run seed, step, index), so the first round of a step seeds exactly
 * as before dynamic sampling existed and later rounds continue the numbering.
 */
export async function generateRound(
  ctx: StepContext,
  numPrompts: number,
  seedIndex0: number,
): Promise<Rollout> {
  const { cfg, step } = ctx;
  const picked = ctx.sampler.next(numPrompts).map((i) => ctx.data.items[i]);
  const promptIds = picked.map((p) => p.ids);
  const gen = await ctx.engine.generate(flattenSeqs(promptIds), {
    n: cfg.algo.n_samples,
    temperature: cfg.rollout.temperature,
    topP: cfg.rollout.top_p,
    topK: cfg.rollout.top_k,
    maxNewTokens: cfg.rollout.max_new_tokens,
    stopIds: ctx.stopIds,
    seeds: picked.map((_, j) => samplingSeed(cfg.run.seed, step, seedIndex0 + j)),
    maxRowsPerWave: cfg.rollout.max_rows_per_wave,
  });
  const genIds = Int32Array.from(gen.ids);
  const genOffsets = Int32Array.from(gen.offsets);
  const finished = gen.finish.map((f) => f === 'stop');
  const samples = decodeSamples(ctx, picked, genIds, genOffsets, finished);
  return { picked, promptIds, genIds, genOffsets, genLogprobs: Float32Array.from(gen.logprobs), samples };
}

function decodeSamples(
  ctx: StepContext,
  picked: Rollout['picked'],
  genIds: Int32Array,
  genOffsets: Int32Array,
  finished: boolean[],
): Sample[] {
  const n = ctx.cfg.algo.n_samples;
  const stopSet = new Set(ctx.stopIds);
  const samples: Sample[] = [];
  for (let s = 0; s < picked.length * n; s++) {
    let end = genOffsets[s + 1];
    if (finished[s] && end > genOffsets[s] && stopSet.has(genIds[end - 1])) end--;
    samples.push({
      promptIndex: Math.floor(s / n),
      item: picked[Math.floor(s / n)],
      text: ctx.tok.decode(genIds.subarray(genOffsets[s], end)),
      numTokens: genOffsets[s + 1] - genOffsets[s],
      finished: finished[s],
    });
  }
  return samples;
}

/** The rollout of the given groups (prompt indices of `r`, in that order), re-indexed from 0. */
export function selectGroups(r: Rollout, n: number, groups: number[]): Rollout {
  const parts = groups.map((g) => r.genIds.subarray(r.genOffsets[g * n], r.genOffsets[(g + 1) * n]));
  const genIds = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  const genLogprobs = new Float32Array(genIds.length);
  const genOffsets = new Int32Array(groups.length * n + 1);
  const samples: Sample[] = [];
  let at = 0;
  groups.forEach((g, k) => {
    genLogprobs.set(r.genLogprobs.subarray(r.genOffsets[g * n], r.genOffsets[(g + 1) * n]), at);
    genIds.set(parts[k], at);
    for (let j = 0; j < n; j++) {
      const s = g * n + j;
      genOffsets[k * n + j] = at;
      at += r.genOffsets[s + 1] - r.genOffsets[s];
      samples.push({ ...r.samples[s], promptIndex: k });
    }
  });
  genOffsets[groups.length * n] = at;
  return {
    picked: groups.map((g) => r.picked[g]),
    promptIds: groups.map((g) => r.promptIds[g]),
    genIds,
    genOffsets,
    genLogprobs,
    samples,
  };
}

/** Two rollouts one after the other (prompt indices of `b` follow those of `a`). */
export function concatRollouts(a: Rollout, b: Rollout): Rollout {
  const genIds = new Int32Array(a.genIds.length + b.genIds.length);
  genIds.set(a.genIds);
  genIds.set(b.genIds, a.genIds.length);
  const genLogprobs = new Float32Array(genIds.length);
  genLogprobs.set(a.genLogprobs);
  genLogprobs.set(b.genLogprobs, a.genLogprobs.length);
  const genOffsets = new Int32Array(a.genOffsets.length + b.genOffsets.length - 1);
  genOffsets.set(a.genOffsets);
  const last = a.genOffsets[a.genOffsets.length - 1];
  for (let i = 1; i < b.genOffsets.length; i++)
    genOffsets[a.genOffsets.length - 1 + i] = last + b.genOffsets[i];
  const shift = a.picked.length;
  return {
    picked: [...a.picked, ...b.picked],
    promptIds: [...a.promptIds, ...b.promptIds],
    genIds,
    genOffsets,
    genLogprobs,
    samples: [...a.samples, ...b.samples.map((s) => ({ ...s, promptIndex: s.promptIndex + shift }))],
  };
}
