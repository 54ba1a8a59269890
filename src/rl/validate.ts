// In-training validation on data.val: accuracy, format rate, response length, reflection rate.
import { hasReflection } from '../analysis/reflection.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import type { EngineClient } from '../engine/index.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { flattenSeqs, mean } from './batch.ts';
import { loadPromptSet, type PromptSet } from './prompt-set.ts';
import type { RewardGrader } from './reward.ts';

export async function loadValSet(cfg: ResolvedConfig, tok: TextTokenizer): Promise<PromptSet> {
  return loadPromptSet(cfg.data.val!, tok, {
    template: cfg.model.prompt_template,
    maxPromptTokens: cfg.rollout.max_prompt_tokens,
    fields: cfg.data.fields,
    dedup: cfg.data.dedup,
    limit: cfg.eval.max_problems,
  });
}

/** In-training validation: accuracy, format rate and response length on data.val. */
export async function evaluate(
  cfg: ResolvedConfig,
  engine: EngineClient,
  grader: RewardGrader,
  tok: TextTokenizer,
  val: PromptSet,
  stopIds: number[],
): Promise<Record<string, number>> {
  const ev = cfg.eval;
  const gen = await engine.generate(flattenSeqs(val.items.map((it) => it.ids)), {
    n: ev.n_samples,
    temperature: ev.temperature,
    topP: ev.temperature > 0 ? cfg.rollout.top_p : 1,
    topK: 0,
    maxNewTokens: ev.max_new_tokens ?? cfg.rollout.max_new_tokens,
    stopIds,
    seed: cfg.run.seed,
    maxRowsPerWave: cfg.rollout.max_rows_per_wave,
  });
  const stopSet = new Set(stopIds);
  const inputs = [];
  const lens: number[] = [];
  for (let s = 0; s < gen.finish.length; s++) {
    let end = gen.offsets[s + 1];
    const finished = gen.finish[s] === 'stop';
    if (finished && end > gen.offsets[s] && stopSet.has(gen.ids[end - 1])) end--;
    const item = val.items[Math.floor(s / ev.n_samples)];
    inputs.push({
      gold: item.answer,
      response: tok.decode(gen.ids.subarray(gen.offsets[s], end)),
      finished,
    });
    lens.push(gen.offsets[s + 1] - gen.offsets[s]);
  }
  const grades = await grader.grade(inputs);
  const split = ev.split;
  return {
    [`val/${split}/acc`]: mean(grades.map((g) => (g.correct ? 1 : 0))),
    [`val/${split}/format_rate`]: mean(grades.map((g) => (g.formatted ? 1 : 0))),
    [`val/${split}/response_len`]: mean(lens),
    [`val/${split}/reflection_rate`]: mean(inputs.map((x) => (hasReflection(x.response) ? 1 : 0))),
  };
}
