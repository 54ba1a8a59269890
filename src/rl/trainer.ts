// The PPO / GRPO loop of DESIGN.md. Per step:
//   prompts      = sampler.next(P)                       deterministic; position saved in checkpoints
//   rollouts     = engine.generate(policy, prompts, n)   seeds from (run seed, step, prompt index)
//   rewards      = grader(decode(rollouts), gold)        worker threads, timeouts
//   old, ref, V  = engine.forward(policy | ref | critic)
//   adv, returns = estimator(token rewards (+ KL), V)    TypeScript
//   mini-batches × ppo_epochs: engine.train(policy, ppo|grpo); engine.train(critic, value)
//   metrics.jsonl, rollouts/step-N.jsonl, checkpoint every run.save_every steps and at the end
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { reflectionMetrics } from '../analysis/reflection.ts';
import { checkRunInputs, type ResolvedConfig } from '../config/resolve.ts';
import { configToYaml } from '../config/to-yaml.ts';
import { PromptSampler, type SamplerState } from '../data/sampler.ts';
import type { EngineClient, TrainStats } from '../engine/index.ts';
import {
  type CheckpointInfo,
  type ControllerState,
  cleanCheckpoints,
  createRunDir,
  findLatestCheckpoint,
  type MetricsRow,
  MetricsWriter,
  pruneCheckpoints,
  type RolloutRow,
  type RunPaths,
  runPaths,
  truncateMetrics,
  truncateRollouts,
  writeCheckpoint,
  writeRollouts,
} from '../run/index.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import {
  buildBatch,
  flattenSeqs,
  maskedMean,
  mean,
  perSampleSum,
  type RolloutBatch,
  selectSamples,
} from './batch.ts';
import { computeAdvantages } from './estimators.ts';
import {
  createKlController,
  type KlController,
  type KlControllerState,
  klControllerFromState,
  klPerToken,
  placeOutcomeRewards,
} from './kl.ts';
import { createProgress, type StepProgress } from './progress.ts';
import { describePromptSet, loadPromptSet, type PromptItem, type PromptSet } from './prompt-set.ts';
import { createGrader, type GradeResult, type RewardGrader } from './reward.ts';
import { samplingSeed, shuffled } from './seeds.ts';
import { startEngine } from './start-engine.ts';
import { evaluate, loadValSet } from './validate.ts';
import { warmUp } from './warmup.ts';

export const TRAIN_ERROR = 'training failed';
export const RESUME_ERROR = 'cannot resume';

export interface TrainHooks {
  /** Called after each step with the metrics row written to metrics.jsonl. */
  onStep?: (metrics: MetricsRow) => void;
  /** Aborting stops after the current step, writes a checkpoint and returns. */
  signal?: AbortSignal;
  /** Run folder; default <run.dir>/<run.name>. */
  runDir?: string;
  /** Continue the run in `runDir` from its last complete checkpoint (none: start it over). */
  resume?: boolean;
  /** Status lines (default: stderr). */
  log?: (line: string) => void;
  /** Names the config in errors (default <runDir>/config.yaml). */
  configFile?: string;
  /** Use this engine instead of starting one (it is not shut down at the end). */
  engine?: EngineClient;
}

export interface TrainResult {
  runDir: string;
  /** Last completed step. */
  step: number;
  totalSteps: number;
  lastCheckpoint: CheckpointInfo | null;
  lastMetrics: MetricsRow | null;
  /** True when stopped early by the abort signal. */
  aborted: boolean;
}

interface Sample {
  promptIndex: number;
  item: PromptItem;
  text: string;
  numTokens: number;
  finished: boolean;
}

/** Number of RL steps of a run: run.max_steps, else episodes over the prompts. */
export function totalStepsOf(cfg: ResolvedConfig, numPrompts: number): number {
  return cfg.run.max_steps ?? Math.ceil((cfg.run.episodes * numPrompts) / cfg.algo.prompts_per_step);
}

/** Optimiser steps of the policy over the whole run (for the learning-rate schedule). */
export function totalOptimizerSteps(cfg: ResolvedConfig, totalSteps: number): number {
  return totalSteps * cfg.algo.ppo_epochs * (cfg.algo.prompts_per_step / cfg.algo.mini_batch_size);
}

export async function runTraining(config: ResolvedConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  let cfg = config;
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const runDir = hooks.runDir ?? join(cfg.run.dir, cfg.run.name ?? 'run');
  const isPpo = cfg.algo.name === 'ppo';
  const kl = cfg.algo.kl;
  const useRef = kl.coef > 0 || kl.adaptive !== null;

  checkRunInputs(cfg, hooks.configFile ?? join(runDir, 'config.yaml'));
  const tok = await TextTokenizer.fromDir(cfg.model.tokenizer);
  const data = await loadPromptSet(cfg.data.train, tok, {
    template: cfg.model.prompt_template,
    maxPromptTokens: cfg.rollout.max_prompt_tokens,
    fields: cfg.data.fields,
    levels: cfg.data.levels,
    subjects: cfg.data.subjects,
    dedup: cfg.data.dedup,
    limit: cfg.data.max_problems,
  });
  log(describePromptSet(cfg.data.train, data, cfg.rollout.max_prompt_tokens));
  const val = cfg.eval.every > 0 && cfg.data.val !== null ? await loadValSet(cfg, tok) : null;
  const stopIds = resolveStopIds(cfg, tok);
  const totalSteps = totalStepsOf(cfg, data.items.length);
  const numOptSteps = totalOptimizerSteps(cfg, totalSteps);

  // Run folder: fresh, or resumed from its last complete checkpoint.
  let paths: RunPaths;
  let resumeFrom: CheckpointInfo | null = null;
  if (hooks.resume) {
    paths = runPaths(runDir);
    if (!existsSync(paths.config))
      throw new Error(`${RESUME_ERROR} ${runDir}: not a run folder (no config.yaml)`);
    resumeFrom = findLatestCheckpoint(runDir);
    const step = resumeFrom?.step ?? 0;
    if (resumeFrom !== null && resumeFrom.controller.problems.fingerprint !== data.fingerprint) {
      throw new Error(
        `${RESUME_ERROR} ${runDir}: the training prompts differ from those the run started with ` +
          `(fingerprint ${data.fingerprint} vs ${resumeFrom.controller.problems.fingerprint}): same data, template and filters are needed`,
      );
    }
    const numMetrics = truncateMetrics(paths.metrics, step);
    const numRollouts = truncateRollouts(paths, step);
    const removed = cleanCheckpoints(paths.checkpoints, step);
    log(
      `simplerl: resuming ${runDir} after step ${step}` +
        (resumeFrom ? ` (${resumeFrom.name})` : ' (no checkpoint yet: starting over)') +
        `; dropped ${numMetrics} metrics rows, ${numRollouts} rollout files, ${removed.length} partial checkpoints of later steps`,
    );
  } else {
    paths = createRunDir(runDir, configToYaml(cfg, `resolved config of run ${runDir} (simplerl train)`));
  }

  const sampler = new PromptSampler(
    data.items.length,
    cfg.run.seed,
    resumeFrom ? (resumeFrom.controller.sampler as SamplerState) : undefined,
  );
  const klCtl = resumeFrom
    ? klControllerFromState(resumeFrom.controller.kl as KlControllerState)
    : createKlController({
        coef: kl.coef,
        target: kl.adaptive?.target ?? null,
        horizon: kl.adaptive?.horizon,
      });
  let numOptimizerSteps = resumeFrom?.controller.num_optimizer_steps ?? 0;
  let step = resumeFrom?.step ?? 0;

  if (step >= totalSteps) {
    log(`simplerl: ${runDir} is already complete (step ${step}/${totalSteps}); raise run.max_steps to go on`);
    return { runDir, step, totalSteps, lastCheckpoint: resumeFrom, lastMetrics: null, aborted: false };
  }
  const engine = hooks.engine ?? (await startEngine(cfg.engine));
  let grader: RewardGrader;
  try {
    grader = await createGrader(cfg);
  } catch (err) {
    if (hooks.engine === undefined) await engine.shutdown().catch(() => {});
    throw err;
  }
  const metrics = new MetricsWriter(paths.metrics);
  let progress: StepProgress = createProgress(totalSteps, step, false);
  let lastCheckpoint = resumeFrom;
  let lastMetrics: MetricsRow | null = null;
  let aborted = false;
  try {
    const hello = await engine.hello();
    log(
      `simplerl: engine torch ${hello.torch} on ${hello.cudaName ?? hello.device} (${hello.threads} threads)`,
    );
    if (cfg.sft.enabled) cfg = await warmUp(cfg, paths, engine, resumeFrom !== null, log);
    await loadRoles(engine, cfg, resumeFrom, numOptSteps, useRef);
    progress = createProgress(totalSteps, step, cfg.run.progress);
    const saveCheckpoint = async () => {
      const state: ControllerState = {
        version: 1,
        step,
        num_optimizer_steps: numOptimizerSteps,
        sampler: sampler.state(),
        rng: { seed: cfg.run.seed, scheme: 'hash32-v1' },
        kl: klCtl.state(),
        problems: { count: data.items.length, fingerprint: data.fingerprint },
        time: new Date().toISOString(),
      };
      lastCheckpoint = await writeCheckpoint(paths.checkpoints, state, async (dir) => {
        await engine.save({ role: 'policy', path: join(dir, 'policy'), optimizer: true });
        copyTokenizerFiles(cfg.model.tokenizer, join(dir, 'policy'));
        if (isPpo) await engine.save({ role: 'critic', path: join(dir, 'critic'), optimizer: true });
      });
      if (cfg.run.keep_checkpoints !== null) pruneCheckpoints(paths.checkpoints, cfg.run.keep_checkpoints);
    };

    while (step < totalSteps) {
      if (hooks.signal?.aborted) {
        aborted = true;
        break;
      }
      step++;
      const row = await trainStep({ cfg, engine, grader, tok, data, sampler, klCtl, stopIds, step, paths });
      numOptimizerSteps += row.numOptimizerSteps;
      if (val !== null && (step % cfg.eval.every === 0 || step === totalSteps)) {
        Object.assign(row.metrics, await evaluate(cfg, engine, grader, tok, val, stopIds));
      }
      const broken = Object.entries(row.metrics).filter(([k, v]) => k !== 'time' && !Number.isFinite(v));
      if (broken.length > 0) {
        throw new Error(
          `${TRAIN_ERROR}: step ${step} diverged: ${broken.map(([k, v]) => `${k}=${v}`).join(', ')}. The last ` +
            `complete checkpoint is ${lastCheckpoint?.dir ?? 'none'}; lower optim.actor_lr or optim.grad_clip and --resume.`,
        );
      }
      metrics.append(row.metrics);
      lastMetrics = row.metrics;
      progress.update(step, row.metrics);
      hooks.onStep?.(row.metrics);
      const isLast = step === totalSteps || hooks.signal?.aborted === true;
      if (isLast || (cfg.run.save_every > 0 && step % cfg.run.save_every === 0)) await saveCheckpoint();
    }
    if (aborted && lastCheckpoint?.step !== step && step > 0) await saveCheckpoint();
  } finally {
    progress.stop();
    metrics.close();
    await grader.close();
    if (hooks.engine === undefined) await engine.shutdown().catch(() => {});
  }
  log(`simplerl: ${aborted ? 'stopped' : 'done'} at step ${step}/${totalSteps}; run folder ${runDir}`);
  return { runDir, step, totalSteps, lastCheckpoint, lastMetrics, aborted };
}

async function loadRoles(
  engine: EngineClient,
  cfg: ResolvedConfig,
  resumeFrom: CheckpointInfo | null,
  numOptSteps: number,
  useRef: boolean,
): Promise<void> {
  const o = cfg.optim;
  const optim = (lr: number) => ({
    lr,
    betas: o.betas,
    weightDecay: o.weight_decay,
    gradClip: o.grad_clip,
    schedule: o.schedule,
    warmupSteps: Math.round(o.warmup_ratio * numOptSteps),
    totalSteps: numOptSteps,
    minLrRatio: o.min_lr_ratio,
  });
  const from = (role: string, base: string) => (resumeFrom ? join(resumeFrom.dir, role) : base);
  const resumeOpt = (role: string) =>
    resumeFrom ? { resumeOptimizer: join(resumeFrom.dir, role, 'optimizer.pt') } : {};
  await engine.load({
    role: 'policy',
    path: from('policy', cfg.model.path),
    dtype: cfg.model.dtype,
    optim: optim(o.actor_lr),
    gradCheckpointing: o.grad_checkpointing,
    ...resumeOpt('policy'),
  });
  if (useRef) await engine.load({ role: 'ref', path: cfg.model.ref_path, dtype: cfg.model.dtype });
  if (cfg.algo.name === 'ppo') {
    await engine.load({
      role: 'critic',
      path: from('critic', cfg.model.critic_path ?? cfg.model.path),
      dtype: cfg.model.dtype,
      seed: cfg.run.seed,
      optim: optim(o.critic_lr),
      gradCheckpointing: o.grad_checkpointing,
      ...resumeOpt('critic'),
    });
  }
}

const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'chat_template.jinja', // transformers >= 4.43 saves the chat template here, not in tokenizer_config.json
];

/** A checkpoint's policy folder gets the tokenizer too, so transformers / vLLM load it as it is. */
function copyTokenizerFiles(fromDir: string, toDir: string): void {
  for (const f of TOKENIZER_FILES)
    if (existsSync(join(fromDir, f))) copyFileSync(join(fromDir, f), join(toDir, f));
}

function resolveStopIds(cfg: ResolvedConfig, tok: TextTokenizer): number[] {
  const ids = new Set<number>(tok.eosTokenIds);
  for (const s of cfg.rollout.stop) {
    if (typeof s === 'number') {
      ids.add(s);
      continue;
    }
    const id = tok.tokenToId(s);
    if (id === undefined) {
      throw new Error(
        `${TRAIN_ERROR}: rollout.stop token ${JSON.stringify(s)} is not in the tokenizer of ${cfg.model.tokenizer}. ` +
          'Fix: remove it from rollout.stop or give its id.',
      );
    }
    ids.add(id);
  }
  return [...ids];
}

interface StepContext {
  cfg: ResolvedConfig;
  engine: EngineClient;
  grader: RewardGrader;
  tok: TextTokenizer;
  data: PromptSet;
  sampler: PromptSampler;
  klCtl: KlController;
  stopIds: number[];
  step: number;
  paths: RunPaths;
}

async function trainStep(ctx: StepContext): Promise<{ metrics: MetricsRow; numOptimizerSteps: number }> {
  const { cfg, engine, grader, tok, data, sampler, klCtl, step } = ctx;
  const a = cfg.algo;
  const n = a.n_samples;
  const isPpo = a.name === 'ppo';
  const t0 = performance.now();

  // generate
  const epoch = sampler.currentEpoch;
  const picked = sampler.next(a.prompts_per_step).map((i) => data.items[i]);
  const promptIds = picked.map((p) => p.ids);
  const prompts = flattenSeqs(promptIds);
  const gen = await engine.generate(prompts, {
    n,
    temperature: cfg.rollout.temperature,
    topP: cfg.rollout.top_p,
    topK: cfg.rollout.top_k,
    maxNewTokens: cfg.rollout.max_new_tokens,
    stopIds: ctx.stopIds,
    seeds: picked.map((_, j) => samplingSeed(cfg.run.seed, step, j)),
  });
  const t1 = performance.now();

  // reward
  const genIds = Int32Array.from(gen.ids);
  const genOffsets = Int32Array.from(gen.offsets);
  const stopSet = new Set(ctx.stopIds);
  const samples: Sample[] = [];
  for (let s = 0; s < picked.length * n; s++) {
    let end = genOffsets[s + 1];
    const finished = gen.finish[s] === 'stop';
    if (finished && end > genOffsets[s] && stopSet.has(genIds[end - 1])) end--;
    samples.push({
      promptIndex: Math.floor(s / n),
      item: picked[Math.floor(s / n)],
      text: tok.decode(genIds.subarray(genOffsets[s], end)),
      numTokens: genOffsets[s + 1] - genOffsets[s],
      finished,
    });
  }
  const grades = await grader.grade(
    samples.map((s) => ({ gold: s.item.answer, response: s.text, finished: s.finished })),
  );
  const scores = Float32Array.from(grades, (g) => g.reward);
  const t2 = performance.now();

  // forward: behaviour log-probs, reference log-probs, values
  const batch = buildBatch(promptIds, n, genIds, genOffsets);
  const seqs = { ids: batch.ids, offsets: batch.offsets, promptLens: batch.promptLens };
  const temperature = cfg.rollout.temperature > 0 ? cfg.rollout.temperature : 1;
  const microBatchTokens = cfg.optim.micro_batch_tokens;
  const oldLogprobs = a.recompute_logprobs
    ? (await engine.forward(seqs, { role: 'policy', outputs: ['logprobs'], temperature, microBatchTokens }))
        .logprobs!
    : Float32Array.from(gen.logprobs);
  const useRef = a.kl.coef > 0 || a.kl.adaptive !== null;
  const refLogprobs = useRef
    ? (await engine.forward(seqs, { role: 'ref', outputs: ['logprobs'], temperature, microBatchTokens }))
        .logprobs!
    : null;
  const values = isPpo
    ? (await engine.forward(seqs, { role: 'critic', outputs: ['values'], microBatchTokens })).values!
    : null;
  const t3 = performance.now();

  // advantages (TypeScript)
  const numTokens = genIds.length;
  const mask = new Uint8Array(numTokens).fill(1);
  if (a.mask_truncated) {
    for (let s = 0; s < samples.length; s++)
      if (!samples[s].finished) mask.fill(0, genOffsets[s], genOffsets[s + 1]);
  }
  const klTok = refLogprobs
    ? klPerToken(oldLogprobs, refLogprobs, a.kl.estimator)
    : new Float32Array(numTokens);
  const klCoef = klCtl.coef;
  const tokenRewards = placeOutcomeRewards(
    scores,
    batch.responseOffsets,
    a.kl.in === 'reward' && refLogprobs ? klTok : undefined,
    a.kl.in === 'reward' ? klCoef : 0,
  );
  const { advantages, returns } = computeAdvantages(a.estimator, {
    tokenRewards,
    responseOffsets: batch.responseOffsets,
    groupSize: n,
    ...(values ? { values } : {}),
    gamma: a.gamma,
    lambda: a.lambda,
    mask,
  });

  // train: mini-batches of whole groups, ppo_epochs passes
  const groups = keptGroups(scores, n, picked.length, a.drop_uniform_groups);
  const arrays = {
    mask,
    advantages,
    oldLogprobs,
    ...(refLogprobs && a.kl.in === 'loss' ? { refLogprobs } : {}),
    ...(isPpo ? { returns, oldValues: values! } : {}),
  };
  const actorStats: TrainStats[] = [];
  const criticStats: TrainStats[] = [];
  for (let e = 0; e < a.ppo_epochs; e++) {
    const order = shuffled(groups, cfg.run.seed, step, e);
    for (let g0 = 0; g0 < order.length; g0 += a.mini_batch_size) {
      const idx = order
        .slice(g0, g0 + a.mini_batch_size)
        .flatMap((g) => Array.from({ length: n }, (_, j) => g * n + j));
      const sub = selectSamples(batch, arrays, idx);
      // A mini-batch whose every token is masked (all truncated under mask_truncated) has no loss.
      if (!(sub.arrays.mask as Uint8Array).includes(1)) continue;
      actorStats.push(await trainActor(ctx, sub.batch, sub.arrays, klCoef, temperature));
      if (isPpo) criticStats.push(await trainCritic(ctx, sub.batch, sub.arrays));
    }
  }
  const t4 = performance.now();

  // KL controller, metrics, rollouts
  const klSeq = perSampleSum(klTok, batch.responseOffsets, mask);
  klCtl.update(mean(klSeq), samples.length);
  const lens = samples.map((s) => s.numTokens);
  const seconds = (t4 - t0) / 1000;
  const rewardMean = mean(scores);
  const row: MetricsRow = {
    step,
    time: new Date().toISOString(),
    'data/epoch': epoch,
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
    'kl/mean': maskedMean(klTok, mask),
    'kl/coef': klCoef,
    'train/groups_kept': groups.length / picked.length,
    ...aggregate('actor', actorStats),
    ...(isPpo ? aggregate('critic', criticStats) : {}),
    ...(isPpo ? { 'critic/values_mean': maskedMean(values!, mask) } : {}),
    'perf/tokens_per_s': (numTokens + prompts.ids.length) / seconds,
    'perf/gen_tokens_per_s': numTokens / Math.max(1e-9, (t1 - t0) / 1000),
    'time/generate_s': (t1 - t0) / 1000,
    'time/reward_s': (t2 - t1) / 1000,
    'time/forward_s': (t3 - t2) / 1000,
    'time/train_s': (t4 - t3) / 1000,
    'time/step_s': seconds,
  };
  writeStepRollouts(ctx, samples, grades, scores);
  return { metrics: row, numOptimizerSteps: actorStats.length };
}

async function trainActor(
  ctx: StepContext,
  batch: RolloutBatch,
  arrays: Record<string, Float32Array | Uint8Array>,
  klCoef: number,
  temperature: number,
): Promise<TrainStats> {
  const a = ctx.cfg.algo;
  return ctx.engine.train(
    {
      ids: batch.ids,
      offsets: batch.offsets,
      promptLens: batch.promptLens,
      mask: arrays.mask as Uint8Array,
      advantages: arrays.advantages as Float32Array,
      oldLogprobs: arrays.oldLogprobs as Float32Array,
      ...(arrays.refLogprobs ? { refLogprobs: arrays.refLogprobs as Float32Array } : {}),
    },
    {
      role: 'policy',
      loss: a.name,
      lossArgs: {
        clip_eps: a.clip,
        clip_eps_high: a.clip_high ?? a.clip,
        dual_clip: a.dual_clip,
        kl_coef: a.kl.in === 'loss' ? klCoef : 0,
        kl_estimator: a.kl.estimator,
        entropy_coef: a.entropy_coef,
        agg: a.loss_agg,
      },
      temperature,
      microBatchTokens: ctx.cfg.optim.micro_batch_tokens,
      ...(a.loss_norm === 'constant'
        ? { lossNorm: a.mini_batch_size * a.n_samples * ctx.cfg.rollout.max_new_tokens }
        : {}),
    },
  );
}

async function trainCritic(
  ctx: StepContext,
  batch: RolloutBatch,
  arrays: Record<string, Float32Array | Uint8Array>,
): Promise<TrainStats> {
  return ctx.engine.train(
    {
      ids: batch.ids,
      offsets: batch.offsets,
      promptLens: batch.promptLens,
      mask: arrays.mask as Uint8Array,
      returns: arrays.returns as Float32Array,
      oldValues: arrays.oldValues as Float32Array,
    },
    {
      role: 'critic',
      loss: 'value',
      lossArgs: { clip_eps: ctx.cfg.algo.value_clip, agg: ctx.cfg.algo.loss_agg },
      microBatchTokens: ctx.cfg.optim.micro_batch_tokens,
    },
  );
}

/** Token-weighted means of the per-mini-batch stats; keys `<prefix>/pg_loss`, ... (finite values only). */
function aggregate(prefix: 'actor' | 'critic', stats: TrainStats[]): Record<string, number> {
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
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      s += v * Math.max(1, st.numTokens);
      w += Math.max(1, st.numTokens);
    }
    if (w > 0) out[`${prefix}/${name}`] = s / w;
  }
  const lr = stats[stats.length - 1].lr;
  if (Number.isFinite(lr)) out[`${prefix}/lr`] = lr;
  return out;
}

/** Groups (prompt indices) that take part in the update; all of them unless uniform ones are dropped. */
function keptGroups(scores: Float32Array, n: number, numPrompts: number, dropUniform: boolean): number[] {
  const out: number[] = [];
  for (let g = 0; g < numPrompts; g++) {
    if (dropUniform) {
      const first = scores[g * n];
      let uniform = true;
      for (let j = 1; j < n; j++) if (scores[g * n + j] !== first) uniform = false;
      if (uniform) continue;
    }
    out.push(g);
  }
  return out;
}

function writeStepRollouts(
  ctx: StepContext,
  samples: Sample[],
  grades: GradeResult[],
  scores: Float32Array,
): void {
  const limit = ctx.cfg.run.log_rollouts;
  if (limit === 0) return;
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
