// Warm-up mode (SimpleRL, not -Zero): SFT on verified long solutions before the RL loop.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/resolve.ts';
import type { EngineClient } from '../engine/index.ts';
import type { RunPaths } from '../run/index.ts';

export const WARMUP_ERROR = 'warm-up';

/**
 * Warm-up mode: supervised fine-tuning on sft.data into <run>/sft/ (a Hugging Face folder), which then
 * replaces the base model as the RL start, reference and critic initialisation. A finished SFT is not
 * redone on resume; one killed in the middle is redone from the start (it writes <run>/sft.tmp first).
 */
export async function warmUp(
  cfg: ResolvedConfig,
  paths: RunPaths,
  engine: EngineClient,
  isResumingRl: boolean,
  log: (line: string) => void,
): Promise<ResolvedConfig> {
  const out = join(paths.root, 'sft');
  if (!existsSync(join(out, 'config.json'))) {
    if (isResumingRl)
      throw new Error(
        `${WARMUP_ERROR}: ${paths.root}: RL checkpoints exist but the SFT model ${out} is missing`,
      );
    const tmp = `${out}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    log(`simplerl: warm-up SFT on ${cfg.sft.data} → ${out}`);
    const { runSft } = await import('../sft/sft.ts');
    const res = await runSft({
      model: cfg.model.path,
      data: cfg.sft.data!,
      out: tmp,
      epochs: cfg.sft.epochs,
      lr: cfg.sft.lr,
      batchSize: cfg.sft.batch_size,
      maxTokens: cfg.sft.max_tokens,
      microBatchTokens: cfg.optim.micro_batch_tokens,
      weightDecay: cfg.optim.weight_decay,
      promptTemplate: cfg.model.prompt_template,
      seed: cfg.run.seed,
      dtype: cfg.model.dtype,
      engine,
    });
    renameSync(tmp, out);
    const last = res.metrics[res.metrics.length - 1];
    log(
      `simplerl: SFT done: ${res.numExamples} examples, ${res.numSteps} steps, last loss ${last?.loss.toFixed(4) ?? '-'}`,
    );
  }
  const base = cfg.model.path;
  return {
    ...cfg,
    model: {
      ...cfg.model,
      path: out,
      ref_path: cfg.model.ref_path === base ? out : cfg.model.ref_path,
      critic_path: cfg.model.critic_path === base ? out : cfg.model.critic_path,
    },
  };
}
