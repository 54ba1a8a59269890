// Checks a run makes once its training prompts are loaded, before the engine starts: the number of
// prompts is known only then (data.levels / subjects / dedup / max_problems and the prompt length limit
// drop problems), so `algo.prompts_per_step` cannot be checked against it in the config alone.
import type { ResolvedConfig } from '../config/resolve.ts';
import { describePromptSet, type PromptSet } from './prompt-set.ts';

export const TOO_FEW_PROMPTS = 'fewer training prompts than algo.prompts_per_step';

/** Throws when a step would need more distinct prompts than the data set has (a step would repeat them). */
export function checkEnoughPrompts(cfg: ResolvedConfig, data: PromptSet, configFile: string): void {
  const want = cfg.algo.prompts_per_step;
  if (data.items.length >= want) return;
  const found = describePromptSet(cfg.data.train, data, cfg.rollout.max_prompt_tokens).replace(
    /^simplerl: /,
    '',
  );
  throw new Error(
    `${configFile}: ${TOO_FEW_PROMPTS}: algo.prompts_per_step=${want}, but ${found}. Fix: lower ` +
      'algo.prompts_per_step (and algo.mini_batch_size), or loosen data.levels / data.subjects / ' +
      'data.max_problems / rollout.max_prompt_tokens, or use a larger data.train.',
  );
}
