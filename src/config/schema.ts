// The one typed config of a simplerl run. Every field carries one help text (effect, meaning of null,
// range, related fields, the original work's value); `simplerl train --help-config` is generated from it.
// Keys are snake_case as in the YAML files. Sections use `prefault({})` so that a missing section is
// parsed (and gets its defaults) like an empty one.
import { z } from 'zod';
import { TRACKER_NAMES, WANDB_MODES } from '../run/trackers/tracker.ts';

/** run.trackers and their settings (issue 19): where metrics rows go besides metrics.jsonl. */
const TRACKER_FIELDS = {
  trackers: z
    .array(z.enum(TRACKER_NAMES))
    .default(['tensorboard'])
    .describe(
      'Where each metrics row goes besides metrics.jsonl (always written, the source of truth): tensorboard ' +
        '(events.out.tfevents.* in the run folder; `tensorboard --logdir <run.dir>`), wandb (Weights & Biases ' +
        'through the Python `wandb` package, see run.wandb_mode). []: metrics.jsonl only.',
    ),
  wandb_project: z
    .string()
    .min(1)
    .default('simplerl')
    .describe(
      'W&B project of the run (used when run.trackers has wandb); the W&B run name is the run folder name.',
    ),
  wandb_mode: z
    .enum(WANDB_MODES)
    .default('offline')
    .describe(
      'offline: W&B writes <run folder>/wandb/offline-run-*, uploaded later with `wandb sync DIR`, no network ' +
        'needed; online: streamed to the W&B server (needs `wandb login` or WANDB_API_KEY).',
    ),
};

import { BUILTIN_ESTIMATOR_NAMES, LOSS_AGG_NAMES, POLICY_LOSS_NAMES, RECIPE_NAMES } from '../rl/names.ts';

const RUN = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
      .nullable()
      .default(null)
      .describe(
        'Name of the run: its folder is <run.dir>/<name>. null: the config file name plus a UTC time stamp. ' +
          '`--name` on the command line overrides it.',
      ),
    dir: z
      .string()
      .min(1)
      .default('runs')
      .describe('Parent folder of run folders (relative to the working directory).'),
    seed: z
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0)
      .describe(
        'Seed of everything random: data order, sampling seeds (derived from seed, step and prompt index, so a ' +
          'resumed run draws the same samples), mini-batch order, random heads. 0 ≤ seed < 2^31.',
      ),
    max_steps: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Number of RL steps (one step = generate for algo.prompts_per_step prompts, grade, update). null: ' +
          'run.episodes passes over the training prompts, ceil(episodes × num_prompts / prompts_per_step). ' +
          'Original v0: 120 steps reported (of a 20-episode budget).',
      ),
    episodes: z
      .number()
      .positive()
      .default(20)
      .describe('Passes over the training prompts when run.max_steps is null. Original v0: 20.'),
    save_every: z
      .int()
      .min(0)
      .default(4)
      .describe(
        'Save a checkpoint (weights, optimiser, controller state) every k steps and always at the end; 0: only ' +
          'at the end. A killed run resumes from the last complete one (`--resume`). Original v0: 4.',
      ),
    keep_checkpoints: z
      .int()
      .min(2)
      .nullable()
      .default(null)
      .describe(
        'Keep only the last k checkpoints (older ones are deleted after a new one is complete). null: keep all. ' +
          'At least 2: a resume that finds the newest checkpoint damaged (manifest.json check) falls back to the one before.',
      ),
    log_rollouts: z
      .int()
      .min(0)
      .nullable()
      .default(64)
      .describe(
        'Responses written to rollouts/step-NNNNNN.jsonl per step (the first k of the step, prompt-major). ' +
          '0: none; null: all.',
      ),
    progress: z
      .boolean()
      .default(true)
      .describe(
        'Show a live progress bar with the key metrics on stderr (also prints in CI logs without a TTY).',
      ),
    ...TRACKER_FIELDS,
  })
  .prefault({});

const MODEL = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Hugging Face folder of the base policy (config.json + safetensors + tokenizer.json). Required; usually ' +
          'given as `--set model.path=DIR`. Original v0: Qwen2.5-Math-7B.',
      ),
    ref_path: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Reference policy for the KL term. null: model.path (the base model, as in the original work).',
      ),
    critic_path: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Critic (value model) folder, PPO only. null: model.path with a fresh value head (the original work ' +
          'initialises the critic from the base model).',
      ),
    tokenizer: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Folder holding tokenizer.json (+ tokenizer_config.json). null: model.path.'),
    dtype: z
      .enum(['auto', 'float32', 'bfloat16'])
      .default('auto')
      .describe('Weights dtype in the engine. auto: bfloat16 on CUDA, float32 on CPU.'),
    prompt_template: z
      .string()
      .min(1)
      .default('qwen25-math-cot')
      .describe(
        'Prompt template: a name from the template table (qwen25-math-cot, qwen-boxed, abel, plain, ...) or a ' +
          'literal string containing {input}. Original v0: qwen25-math-cot; v1 (Zoo): qwen-boxed for general ' +
          'base models. Fed as a raw string: no chat template on top.',
      ),
  })
  .prefault({});

const FIELDS = z
  .strictObject({
    problem: z
      .string()
      .nullable()
      .default(null)
      .describe('Field holding the question. null: the first of problem, question, prompt, input present.'),
    answer: z
      .string()
      .nullable()
      .default(null)
      .describe(
        'Field holding the gold answer. null: answer, final_answer, else the last \\boxed{} of `solution`, ' +
          'else the text after #### (GSM8K).',
      ),
    solution: z
      .string()
      .nullable()
      .default(null)
      .describe('Field whose last \\boxed{} is the gold when no answer field exists. null: solution.'),
    id: z
      .string()
      .nullable()
      .default(null)
      .describe('Field holding a stable problem id. null: id, unique_id, idx, else the line number.'),
  })
  .prefault({});

const DATA = z
  .strictObject({
    train: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Training problems, JSONL or Parquet, one problem per row. Required. Original v0: 8.5K MATH problems, levels 3-5.',
      ),
    val: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Held-out problems evaluated every eval.every steps (see eval). null: no in-training validation.',
      ),
    fields: FIELDS,
    levels: z
      .array(z.int())
      .nullable()
      .default(null)
      .describe(
        'Keep only problems of these levels (MATH "Level 3" counts as 3). null: all. Original v0: [3, 4, 5].',
      ),
    subjects: z
      .array(z.string())
      .nullable()
      .default(null)
      .describe('Keep only problems of these subjects. null: all.'),
    dedup: z.boolean().default(true).describe('Drop problems whose normalised text repeats an earlier one.'),
    max_problems: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Use only the first k problems after filtering (quick experiments). null: all.'),
  })
  .prefault({});

const KL = z
  .strictObject({
    coef: z
      .number()
      .min(0)
      .nullable()
      .default(null)
      .describe(
        'Weight of the KL penalty to the reference policy. 0: no KL (the reference is not loaded). null: the ' +
          "algorithm's default: 0.01 for ppo (original v0), 0.001 for grpo (Zoo: 1e-4 for 0.5B-14B, 1e-3 above). " +
          'With kl.adaptive this is the initial value.',
      ),
    estimator: z
      .enum(['k1', 'k2', 'k3'])
      .nullable()
      .default(null)
      .describe(
        'Per-token KL estimator (Schulman, "Approximating KL divergence"): k1 = log p - log q, k2 = ½(log p - ' +
          'log q)², k3 = exp(log q - log p) - 1 - (log q - log p). null: k1 for ppo (original), k3 for grpo (Zoo).',
      ),
    in: z
      .enum(['reward', 'loss'])
      .nullable()
      .default(null)
      .describe(
        'Where the KL goes: "reward" subtracts coef × KL from each token reward (before the advantage ' +
          'estimator, original v0); "loss" adds coef × KL to the policy loss (Zoo/GRPO). null: reward for ppo, loss for grpo.',
      ),
    adaptive: z
      .strictObject({
        target: z.number().positive().describe('Target KL per sequence (Ziegler et al. 2019 use 6.0 nats).'),
        horizon: z
          .int()
          .min(1)
          .default(10000)
          .describe('Horizon in samples of the proportional controller (10000).'),
      })
      .nullable()
      .default(null)
      .describe('Adaptive KL coefficient (Ziegler et al. 2019). null: fixed coefficient (original v0).'),
  })
  .prefault({});

const RECIPE_KEYS = {
  recipe: z
    .enum(RECIPE_NAMES)
    .nullable()
    .default(null)
    .describe(
      `A named bundle of algo settings (${RECIPE_NAMES.join(', ')}; src/config/recipes.ts lists the values and ` +
        'papers). Keys the config or --set names explicitly win over the recipe. null: none.',
    ),
  estimator_module: z
    .string()
    .nullable()
    .default(null)
    .describe(
      'A TypeScript/JavaScript module that registers advantage estimators (registerAdvantageEstimator, see ' +
        'README); algo.estimator may then name them. Loaded before training. null: built-ins only.',
    ),
  policy_loss: z
    .enum(POLICY_LOSS_NAMES)
    .nullable()
    .default(null)
    .describe(
      'Engine policy loss: ppo / grpo (token-level clipped ratio) or gspo (sequence-level ratio, Zheng et al. ' +
        '2025, with algo.gspo_clip). null: the loss named like algo.name.',
    ),
  gspo_clip: z
    .number()
    .positive()
    .default(3e-4)
    .describe('Lower clip ε of the GSPO sequence ratio (policy_loss=gspo). GSPO paper: 3e-4.'),
  gspo_clip_high: z
    .number()
    .positive()
    .nullable()
    .default(4e-4)
    .describe('Upper clip ε of the GSPO sequence ratio. null: algo.gspo_clip. GSPO paper: 4e-4.'),
  dynamic_sampling: z
    .boolean()
    .default(false)
    .describe(
      'DAPO dynamic sampling: draw further rounds of algo.prompts_per_step prompts until the step holds ' +
        'prompts_per_step groups with mixed rewards (uniform groups dropped), at most algo.max_sampling_rounds ' +
        'rounds; extra mixed groups are discarded. Logs sampling/prompts_drawn, prompts_dropped. Original: false.',
    ),
  max_sampling_rounds: z
    .int()
    .min(1)
    .default(10)
    .describe(
      'Cap on generation rounds per step under dynamic_sampling (verl DAPO max_num_gen_batches: 10).',
    ),
  overlong_buffer: z
    .int()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'DAPO soft overlong punishment: the last `buffer` tokens before rollout.max_new_tokens get a reward ' +
        'penalty falling linearly from 0 to -algo.overlong_penalty. null: off. DAPO: 4096 of 20480.',
    ),
  overlong_penalty: z
    .number()
    .min(0)
    .default(1)
    .describe('Penalty at the length limit under algo.overlong_buffer (DAPO: 1.0).'),
  tis_cap: z
    .number()
    .gt(0)
    .nullable()
    .default(null)
    .describe(
      "Truncated importance sampling for the generator/trainer mismatch (Yao et al. 2025): the trainer's " +
        'log-probs are computed (a forward pass, even with recompute_logprobs=false) and the policy loss of each ' +
        'token is weighted by min(p_trainer / p_generator, cap). null: off. Paper: 2.',
    ),
} as const;

const ALGO = z
  .strictObject({
    name: z
      .enum(['ppo', 'grpo'])
      .default('ppo')
      .describe(
        'ppo: PPO with a critic and GAE (SimpleRL-Zero, v0). grpo: no critic, group-normalised advantages, ' +
          'KL in the loss (SimpleRL-Zoo, v1).',
      ),
    estimator: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        `Advantage estimator: ${BUILTIN_ESTIMATOR_NAMES.join(', ')}, or a name registered by ` +
          'algo.estimator_module. gae needs the critic (ppo only); the others need no critic. null: gae for ppo, ' +
          'grpo for grpo.',
      ),
    gamma: z.number().min(0).max(1).default(1).describe('Discount of GAE and REINFORCE++. Original v0: 1.0.'),
    lambda: z.number().min(0).max(1).default(0.95).describe('GAE λ. Original v0: 0.95.'),
    n_samples: z
      .int()
      .min(1)
      .default(8)
      .describe('Responses sampled per prompt (the group size of grpo / rloo). Original v0 and v1: 8.'),
    prompts_per_step: z
      .int()
      .min(1)
      .default(1024)
      .describe(
        'Prompts drawn per RL step; responses per step = prompts_per_step × n_samples. Original: 1024.',
      ),
    mini_batch_size: z
      .int()
      .min(1)
      .default(16)
      .describe(
        'Prompts (with all their samples) per optimiser step; must divide algo.prompts_per_step. Original v0: ' +
          'train batch 128 responses = 16 prompts × 8 → 64 optimiser steps per RL step. Zoo: 256 prompts.',
      ),
    ppo_epochs: z
      .int()
      .min(1)
      .default(1)
      .describe("Passes over each step's rollouts. Original v0 and v1: 1."),
    clip: z.number().positive().default(0.2).describe('PPO ratio clip ε. Original: 0.2.'),
    clip_high: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe('Upper clip ε (DAPO "clip-higher"). null: algo.clip (symmetric, original).'),
    dual_clip: z
      .number()
      .gt(1)
      .nullable()
      .default(null)
      .describe(
        'Dual-clip bound c > 1 for negative advantages (Ye et al. 2020, e.g. 3.0). null: off (original).',
      ),
    value_clip: z.number().positive().default(0.2).describe('Critic value clip. Original v0: 0.2.'),
    kl: KL,
    entropy_coef: z
      .number()
      .min(0)
      .default(0)
      .describe('Entropy bonus weight in the policy loss. Original v0: 0; Zoo: 0.001.'),
    loss_agg: z
      .enum(LOSS_AGG_NAMES)
      .default('token-mean')
      .describe(
        'How per-token losses are aggregated. token-mean as OpenRLHF (v0) and verl (v1) default. ' +
          'seq-mean-token-sum-norm: Σ token losses / rollout.max_new_tokens (verl agg_loss; Dr. GRPO).',
      ),
    loss_norm: z
      .enum(['mini-batch', 'constant'])
      .default('mini-batch')
      .describe(
        'Denominator of the token-mean loss. mini-batch: the masked tokens of each optimiser step (OpenRLHF, ' +
          'verl). constant: mini_batch_size × n_samples × rollout.max_new_tokens, the same for every step, so ' +
          'short responses do not weigh more (Dr. GRPO, Liu et al. 2025).',
      ),
    drop_uniform_groups: z
      .boolean()
      .default(false)
      .describe(
        "Leave out of the update the groups (one prompt's n_samples) whose rewards are all equal: their group " +
          'advantage is zero. Saves update time. Original: false.',
      ),
    mask_truncated: z
      .boolean()
      .default(false)
      .describe(
        'Mask responses that hit rollout.max_new_tokens out of the loss. Original v0: false; Zoo: true.',
      ),
    recompute_logprobs: z
      .boolean()
      .default(true)
      .describe(
        'Recompute the behaviour log-probs with a forward pass of the policy (as OpenRLHF / verl) instead of ' +
          'using those returned by generation. false saves one forward pass; they agree up to kernel differences.',
      ),
    // --- issue 18: the 2025-26 recipe set (src/rl/step/, src/rl/shaping.ts, src/config/recipes.ts) ---
    ...RECIPE_KEYS,
  })
  .prefault({});

const ROLLOUT = z
  .strictObject({
    temperature: z
      .number()
      .min(0)
      .default(0.6)
      .describe('Sampling temperature (0 = greedy; log-probs use it too). Original v0: 0.6; Zoo: 1.0.'),
    top_p: z.number().gt(0).max(1).default(1).describe('Nucleus sampling mass (1 = off). Original: 1.0.'),
    top_k: z.int().min(0).default(0).describe('Top-k sampling (0 = off). Original: off.'),
    max_prompt_tokens: z
      .int()
      .min(1)
      .default(1024)
      .describe(
        'Prompts longer than this (after the template) are dropped at load, with a count. Original: 1024.',
      ),
    max_new_tokens: z
      .int()
      .min(1)
      .default(3000)
      .describe(
        "Response length limit. max_prompt_tokens + max_new_tokens must fit the model's " +
          'max_position_embeddings. Original v0: 3000 (4K-context base model); Zoo: 8192.',
      ),
    stop: z
      .array(z.union([z.string(), z.int().min(0)]))
      .default(['<|im_end|>', '<|endoftext|>'])
      .describe(
        'Stop tokens: token strings (looked up in the tokenizer; unknown ones are an error) or ids. The ' +
          "tokenizer's end-of-sequence tokens are always added. Original: 151645 (<|im_end|>), 151643 (<|endoftext|>).",
      ),
    max_rows_per_wave: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Cap on the rows (prompts × n_samples) one engine rank generates at once. The engine generates a ' +
          "step's prompts in waves sized by its KV-cache budget (half the free GPU memory, 4 GiB on CPU); this " +
          'caps a wave further, in whole prompts, at least one prompt (n rows) per wave. Same samples either ' +
          'way (sampling is per row). null: the budget alone. `simplerl plan` shows the waves. Not in the original.',
      ),
  })
  .prefault({});

const OPTIM = z
  .strictObject({
    actor_lr: z
      .number()
      .positive()
      .default(5e-7)
      .describe('Policy learning rate (AdamW). Original v0 and v1: 5e-7.'),
    critic_lr: z
      .number()
      .positive()
      .default(9e-6)
      .describe('Critic learning rate (AdamW), ppo only. Original v0: 9e-6.'),
    schedule: z
      .enum(['constant', 'cosine'])
      .default('cosine')
      .describe('Learning-rate schedule after warm-up. Original v0: cosine to optim.min_lr_ratio × lr.'),
    warmup_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(0.03)
      .describe('Share of all optimiser steps spent in linear warm-up. Original v0: 0.03.'),
    min_lr_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe('Final lr of the cosine schedule as a share of lr. Original v0: 0.1.'),
    weight_decay: z.number().min(0).default(0).describe('AdamW weight decay. Original v0: 0.'),
    betas: z
      .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
      .default([0.9, 0.95])
      .describe('AdamW betas. OpenRLHF: (0.9, 0.95).'),
    grad_clip: z
      .number()
      .positive()
      .nullable()
      .default(1)
      .describe('Clip the gradient global norm to this value. null: no clipping. Original: 1.0.'),
    micro_batch_tokens: z
      .int()
      .min(1)
      .default(8192)
      .describe(
        'Token budget (prompt + response) of one micro-batch in forward and train: gradient accumulation keeps ' +
          'the update equal whatever the budget. Lower it on out-of-memory.',
      ),
    grad_checkpointing: z
      .boolean()
      .default(false)
      .describe('Recompute activations in the backward pass: less memory, ~30% slower.'),
  })
  .prefault({});

const REWARD = z
  .strictObject({
    preset: z
      .enum(['original', 'zoo'])
      .default('original')
      .describe(
        'Reward table. original (v0): +1 correct and boxed, -0.5 boxed but wrong, -1 no box (format rule "strict" by ' +
          'default: set reward.rules.format=original for the exact v0 substring test). zoo (v1): 1 correct, 0 otherwise.',
      ),
    rules: z
      .strictObject({
        correct: z
          .number()
          .nullable()
          .default(null)
          .describe("Reward of a correct, formatted answer. null: the preset's (original +1)."),
        wrong: z
          .number()
          .nullable()
          .default(null)
          .describe(
            "Reward of a formatted answer that is wrong, timed out or errored. null: the preset's (original -0.5).",
          ),
        no_answer: z
          .number()
          .nullable()
          .default(null)
          .describe(
            "Reward of a response that is not well formatted (no final box). null: the preset's (original -1).",
          ),
        truncated: z
          .number()
          .nullable()
          .default(null)
          .describe(
            'Reward of a response cut by rollout.max_new_tokens (ignored under format "original", which never ' +
              "looked at it). null: the preset's (-1 for original, 0 for zoo).",
          ),
        format: z
          .enum(['strict', 'original', 'none'])
          .nullable()
          .default(null)
          .describe(
            'What "well formatted" means. strict: exactly one \\boxed{} that closes, in a response that ended by ' +
              'itself (our default, stricter than v0). original: the substring "boxed" appears anywhere (v0\'s rule). ' +
              "none: correctness only (zoo). null: the preset's (strict for original, none for zoo).",
          ),
      })
      .prefault({})
      .describe('Overrides of single entries of the preset table.'),
    extract: z
      .enum(['boxed', 'any'])
      .default('boxed')
      .describe(
        'Answer extraction: boxed = last \\boxed{}; any = Qwen2.5-Math extraction (box, "the answer is", last number).',
      ),
    custom: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Module exporting a custom reward function that replaces the table. null: the table.'),
    timeout_ms: z
      .int()
      .min(1)
      .default(10000)
      .describe('Time limit of one verdict; a timeout counts as wrong. Original v0: 10 s.'),
    threads: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Grader worker threads. null: picked from the free cores.'),
  })
  .prefault({});

const ENGINE = z
  .strictObject({
    python: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Python interpreter of the engine. null: $SIMPLERL_PYTHON, else .venv/bin/python.'),
    device: z
      .enum(['auto', 'cpu', 'cuda'])
      .default('auto')
      .describe('Engine device. auto: CUDA when available, else CPU.'),
    threads: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'torch threads on CPU. null: picked from the cores free when the engine starts (a busy machine is ' +
          'said on stderr: multi-threaded torch on busy cores can be ~10x slower).',
      ),
    nproc: z
      .int()
      .min(1)
      .default(1)
      .describe(
        'Engine ranks per node (one per GPU) under torchrun: FSDP2-sharded training, data-parallel rollouts. 1: a single process. Several nodes: set SIMPLERL_TORCHRUN_ARGS (README).',
      ),
  })
  .prefault({});

const SFT = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Warm-up mode: supervised fine-tuning on sft.data before RL (SimpleRL, not -Zero). false: Zero mode.',
      ),
    data: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'JSONL of verified long solutions ({problem, response} per line, e.g. from `simplerl distill`). Required when enabled.',
      ),
    epochs: z.number().positive().default(2).describe('Passes over sft.data.'),
    lr: z.number().positive().default(1e-5).describe('SFT learning rate (cosine, 3% warm-up).'),
    batch_size: z.int().min(1).default(32).describe('Sequences per SFT optimiser step.'),
    max_tokens: z.int().min(1).default(4096).describe('Longer examples (prompt + response) are dropped.'),
  })
  .prefault({});

const EVAL = z
  .strictObject({
    every: z
      .int()
      .min(0)
      .default(0)
      .describe('Evaluate on data.val every k steps (and at the end); 0: never. Needs data.val.'),
    max_problems: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Evaluate on the first k validation problems. null: all.'),
    temperature: z
      .number()
      .min(0)
      .default(0)
      .describe('Validation sampling temperature (0 = greedy, as the v0 table).'),
    n_samples: z.int().min(1).default(1).describe('Samples per validation problem (accuracy is averaged).'),
    max_new_tokens: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Validation response limit. null: rollout.max_new_tokens.'),
    split: z.string().min(1).default('val').describe('Label of the split in metric keys (val/<split>/acc).'),
  })
  .prefault({});

export const ConfigSchema = z.strictObject({
  run: RUN,
  model: MODEL,
  data: DATA,
  algo: ALGO,
  rollout: ROLLOUT,
  optim: OPTIM,
  reward: REWARD,
  engine: ENGINE,
  sft: SFT,
  eval: EVAL,
});

/** The config as written in YAML (every field optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The config after defaults (nullable fields still null: `resolveConfig` fills the derived ones). */
export type Config = z.output<typeof ConfigSchema>;
