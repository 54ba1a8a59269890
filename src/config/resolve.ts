// Derived values and conflicts (the TRL `__post_init__` habit): fills the fields whose null means "the
// algorithm's default" and rejects combinations that cannot work, naming the values, the rule and the fix.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_ESTIMATOR_NAMES, type BuiltinEstimatorName } from '../rl/names.ts';
import { PROMPT_TEMPLATES } from '../tokenizer/prompts.ts';
import { ConfigError } from './errors.ts';
import type { Config } from './schema.ts';

/** A built-in estimator, or (with algo.estimator_module) a name that module registers. */
type Estimator = BuiltinEstimatorName | (string & {});

/** A config whose algorithm-dependent nulls are filled in. */
export type ResolvedConfig = Config & {
  model: Config['model'] & { path: string; ref_path: string; critic_path: string | null; tokenizer: string };
  data: Config['data'] & { train: string };
  algo: Config['algo'] & {
    estimator: Estimator;
    kl: Config['algo']['kl'] & { coef: number; estimator: 'k1' | 'k2' | 'k3'; in: 'reward' | 'loss' };
  };
};

const GROUP_ESTIMATORS: string[] = ['grpo', 'grpo-no-std', 'rloo'] satisfies BuiltinEstimatorName[];

export interface ResolveOptions {
  /** Skip the checks that need model.path / data.train (e.g. a demo that makes them later). */
  allowMissingPaths?: boolean;
}

/** Fills derived values and checks conflicts; throws one ConfigError listing every problem. */
export function resolveConfig(cfg: Config, file: string, opts: ResolveOptions = {}): ResolvedConfig {
  const problems: string[] = [];
  const bad = (msg: string) => problems.push(`${file}: ${msg}`);
  const a = cfg.algo;
  const isPpo = a.name === 'ppo';
  const estimator: Estimator = a.estimator ?? (isPpo ? 'gae' : 'grpo');
  const kl = {
    ...a.kl,
    coef: a.kl.coef ?? (isPpo ? 0.01 : 0.001),
    estimator: a.kl.estimator ?? (isPpo ? 'k1' : 'k3'),
    in: a.kl.in ?? (isPpo ? 'reward' : 'loss'),
  } as const;

  if (!opts.allowMissingPaths && cfg.model.path === null) {
    bad(
      'model.path is required (the base model folder). Fix: add `model: {path: DIR}` or pass --set model.path=DIR',
    );
  }
  if (!opts.allowMissingPaths && cfg.data.train === null) {
    bad('data.train is required (a JSONL or Parquet file of problems). Fix: --set data.train=FILE');
  }
  if (a.estimator_module === null && !(BUILTIN_ESTIMATOR_NAMES as readonly string[]).includes(estimator)) {
    bad(
      `algo.estimator=${estimator}: unknown advantage estimator; valid names are ${BUILTIN_ESTIMATOR_NAMES.join(', ')} ` +
        '(or set algo.estimator_module to a module that registers it).',
    );
  }
  if (a.loss_agg === 'seq-mean-token-sum-norm' && a.loss_norm === 'constant') {
    bad(
      'algo.loss_agg=seq-mean-token-sum-norm with algo.loss_norm=constant: that aggregation has its own constant ' +
        '(rollout.max_new_tokens). Fix: algo.loss_norm=mini-batch.',
    );
  }
  if (a.dynamic_sampling && a.n_samples < 2) {
    bad('algo.dynamic_sampling=true with algo.n_samples=1: every group is uniform. Fix: algo.n_samples>=2.');
  }
  if (a.overlong_buffer !== null && a.overlong_buffer > cfg.rollout.max_new_tokens) {
    bad(
      `algo.overlong_buffer=${a.overlong_buffer} exceeds rollout.max_new_tokens=${cfg.rollout.max_new_tokens}. ` +
        'Fix: a buffer below the limit (DAPO: 4096 of 20480).',
    );
  }
  if (isPpo && estimator !== 'gae') {
    bad(
      `algo.name=ppo with algo.estimator=${estimator}: ppo trains a critic whose only use is GAE. ` +
        `Fix: algo.name=grpo for a critic-free estimator, or algo.estimator=gae (or null).`,
    );
  }
  if (!isPpo && estimator === 'gae') {
    bad(
      'algo.name=grpo with algo.estimator=gae: GAE needs a critic, which grpo does not train. Fix: algo.name=ppo, ' +
        'or --set algo.estimator=grpo (configs/zero.yaml names gae), or start from configs/zoo.yaml.',
    );
  }
  if (!isPpo && cfg.model.critic_path !== null) {
    bad(
      `model.critic_path=${cfg.model.critic_path} with algo.name=grpo: grpo has no critic. Fix: remove model.critic_path.`,
    );
  }
  if (a.prompts_per_step % a.mini_batch_size !== 0) {
    bad(
      `algo.mini_batch_size=${a.mini_batch_size} must divide algo.prompts_per_step=${a.prompts_per_step} ` +
        `(each step is split into whole mini-batches). Fix: e.g. algo.mini_batch_size=${largestDivisorAtMost(a.prompts_per_step, a.mini_batch_size)}.`,
    );
  }
  if (GROUP_ESTIMATORS.includes(estimator) && a.n_samples < 2) {
    bad(
      `algo.estimator=${estimator} with algo.n_samples=${a.n_samples}: a group baseline needs at least 2 samples ` +
        'per prompt (with 1 every advantage is 0). Fix: algo.n_samples=8 (original).',
    );
  }
  if (GROUP_ESTIMATORS.includes(estimator) && cfg.rollout.temperature === 0 && a.n_samples > 1) {
    bad(
      `rollout.temperature=0 with algo.estimator=${estimator}: greedy samples of a prompt are identical, so every ` +
        'group advantage is 0. Fix: rollout.temperature=1.0 (Zoo) or 0.6 (v0).',
    );
  }
  if (a.kl.adaptive !== null && kl.coef === 0) {
    bad(
      'algo.kl.adaptive is set but algo.kl.coef=0: the controller scales the initial coefficient. Fix: algo.kl.coef=0.01.',
    );
  }
  if (a.drop_uniform_groups && a.n_samples < 2) {
    bad(
      'algo.drop_uniform_groups=true with algo.n_samples=1: every group is uniform. Fix: algo.n_samples>=2.',
    );
  }
  if (cfg.sft.enabled && cfg.sft.data === null) {
    bad(
      'sft.enabled=true needs sft.data (verified solutions, JSONL). Fix: --set sft.data=FILE or sft.enabled=false.',
    );
  }
  if (cfg.eval.every > 0 && cfg.data.val === null) {
    bad(`eval.every=${cfg.eval.every} needs data.val. Fix: --set data.val=FILE or eval.every=0.`);
  }
  if (cfg.rollout.top_k > 0 && cfg.rollout.temperature === 0) {
    bad('rollout.top_k>0 with rollout.temperature=0: greedy decoding ignores top_k. Fix: rollout.top_k=0.');
  }

  const modelPath = cfg.model.path ?? '';
  const resolved = {
    ...cfg,
    model: {
      ...cfg.model,
      path: modelPath,
      ref_path: cfg.model.ref_path ?? modelPath,
      critic_path: isPpo ? (cfg.model.critic_path ?? modelPath) : null,
      tokenizer: cfg.model.tokenizer ?? modelPath,
    },
    data: { ...cfg.data, train: cfg.data.train ?? '' },
    algo: { ...a, estimator, kl },
  } as ResolvedConfig;

  if (modelPath !== '') {
    const fit = checkContextFit(resolved);
    if (fit !== null) bad(fit);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), file, problems);
  return resolved;
}

/**
 * Checks that the files a run reads exist, before any engine starts: model folders (with config.json),
 * the tokenizer, the data files, a custom reward module; and the prompt template's name. Throws one
 * ConfigError listing every problem.
 */
export function checkRunInputs(cfg: ResolvedConfig, file: string): void {
  const problems: string[] = [];
  const bad = (msg: string) => problems.push(`${file}: ${msg}`);
  const folders: [string, string | null][] = [
    ['model.path', cfg.model.path],
    ['model.ref_path', cfg.model.ref_path],
    ['model.critic_path', cfg.model.critic_path],
  ];
  for (const [key, dir] of folders) {
    if (dir === null || dir === '') continue;
    if (!existsSync(join(dir, 'config.json')))
      bad(`${key}=${dir}: no config.json there (expected a Hugging Face model folder)`);
  }
  if (cfg.model.tokenizer !== '' && !existsSync(join(cfg.model.tokenizer, 'tokenizer.json'))) {
    bad(`model.tokenizer=${cfg.model.tokenizer}: no tokenizer.json there. Fix: --set model.tokenizer=DIR`);
  }
  const files: [string, string | null][] = [
    ['data.train', cfg.data.train],
    ['data.val', cfg.data.val],
    ['reward.custom', cfg.reward.custom],
    ['algo.estimator_module', cfg.algo.estimator_module],
    ['sft.data', cfg.sft.enabled ? cfg.sft.data : null],
  ];
  for (const [key, path] of files) {
    if (path !== null && path !== '' && !existsSync(path))
      bad(`${key}=${path}: file not found. Fix: --set ${key}=FILE`);
  }
  const t = cfg.model.prompt_template;
  if (!Object.hasOwn(PROMPT_TEMPLATES, t) && !t.includes('{input}')) {
    bad(
      `model.prompt_template=${JSON.stringify(t)}: not a template name (${Object.keys(PROMPT_TEMPLATES).join(', ')}) ` +
        'and no {input} in it. Fix: a name, or a literal template containing {input}.',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), file, problems);
}

/**
 * Prompt + response must fit the model's context (max_position_embeddings of model.path/config.json):
 * fail at load, not after an hour of training. Returns the problem, or null when it fits or is unknown.
 */
export function checkContextFit(cfg: ResolvedConfig): string | null {
  const configPath = join(cfg.model.path, 'config.json');
  if (!existsSync(configPath)) return null;
  let maxPos: unknown;
  try {
    maxPos = (JSON.parse(readFileSync(configPath, 'utf8')) as { max_position_embeddings?: unknown })
      .max_position_embeddings;
  } catch (err) {
    return `${configPath}: not valid JSON (${(err as Error).message})`;
  }
  if (typeof maxPos !== 'number') return null;
  const need =
    cfg.rollout.max_prompt_tokens + Math.max(cfg.rollout.max_new_tokens, cfg.eval.max_new_tokens ?? 0);
  if (need <= maxPos) return null;
  return (
    `rollout.max_prompt_tokens=${cfg.rollout.max_prompt_tokens} + rollout.max_new_tokens=${cfg.rollout.max_new_tokens}` +
    (need > cfg.rollout.max_prompt_tokens + cfg.rollout.max_new_tokens
      ? ` (eval.max_new_tokens=${cfg.eval.max_new_tokens})`
      : '') +
    ' ' +
    `= ${need} exceeds max_position_embeddings=${maxPos} of ${configPath}. Fix: ` +
    (cfg.rollout.max_prompt_tokens < maxPos / 2
      ? `lower rollout.max_new_tokens to ${maxPos - cfg.rollout.max_prompt_tokens} or rollout.max_prompt_tokens.`
      : `lower rollout.max_prompt_tokens (e.g. to ${Math.floor(maxPos / 4)}) and rollout.max_new_tokens to fit.`)
  );
}

function largestDivisorAtMost(n: number, k: number): number {
  for (let d = Math.min(n, k); d >= 1; d--) if (n % d === 0) return d;
  return 1;
}
