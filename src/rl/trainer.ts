// The PPO / GRPO loop of DESIGN.md. Per step, phases in src/rl/step/ over the records of step/types.ts:
//   rollout + grade (draw.ts)  prompts = sampler.next(P), engine.generate, grader; more rounds under
//                              dynamic sampling; seeds from (run seed, step, prompt index)
//   score (score.ts)           shaped rewards; old, ref, V = engine.forward(policy | ref | critic)
//   estimate (estimate.ts)     mask, KL, adv, returns = estimator(token rewards (+ KL), V) in TypeScript
//   update (update.ts)         mini-batches × ppo_epochs: engine.train(policy, ppo|grpo|gspo); critic
//   log (log.ts)               metrics row, rollouts/step-N.jsonl
// This file: the run around the steps (resume, checkpoints every run.save_every steps and at the end).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkRunInputs, type ResolvedConfig } from '../config/resolve.ts';
import { configToYaml } from '../config/to-yaml.ts';
import { PromptSampler, type SamplerState } from '../data/sampler.ts';
import type { EngineClient } from '../engine/index.ts';
import {
  type CheckpointInfo,
  type ControllerState,
  cleanCheckpoints,
  createRunDir,
  findVerifiedCheckpoint,
  type MetricsRow,
  MetricsWriter,
  pruneCheckpoints,
  type RunPaths,
  runPaths,
  truncateMetrics,
  truncateRollouts,
  writeCheckpoint,
} from '../run/index.ts';
import { openTrackers } from '../run/trackers/index.ts';
import { copyTokenizerFiles, TextTokenizer } from '../tokenizer/tokenizer.ts';
import { checkDiverged, TRAIN_ERROR } from './divergence.ts';
import { getAdvantageEstimator, loadEstimatorModule } from './estimators.ts';
import { createKlController, type KlControllerState, klControllerFromState } from './kl.ts';
import { loraLoads } from './lora-load.ts';
import { createProgress, type StepProgress } from './progress.ts';
import { describePromptSet, loadPromptSet } from './prompt-set.ts';
import { createGrader, type RewardGrader } from './reward.ts';
import { checkEnoughPrompts } from './start-checks.ts';
import { startEngine } from './start-engine.ts';
import { drawPhase } from './step/draw.ts';
import { estimatePhase } from './step/estimate.ts';
import { logPhase } from './step/log.ts';
import { scorePhase } from './step/score.ts';
import type { StepContext } from './step/types.ts';
import { updatePhase } from './step/update.ts';
import { evaluate, loadValSet } from './validate.ts';
import { warmUp } from './warmup.ts';

export { TRAIN_ERROR };
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
  await checkEstimator(cfg);
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
  checkEnoughPrompts(cfg, data, hooks.configFile ?? join(runDir, 'config.yaml'));
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
    resumeFrom = await findVerifiedCheckpoint(runDir, log);
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
  const trackers = await openTrackers(cfg.run, runDir, { config: cfg, resumeStep: step }).catch(
    async (err) => {
      if (hooks.engine === undefined) await engine.shutdown().catch(() => {});
      throw err;
    },
  );
  const metrics = new MetricsWriter(paths.metrics, trackers);
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
      checkDiverged(step, row.metrics, lastCheckpoint?.dir); // before eval: it would sample from NaN weights
      if (val !== null && (step % cfg.eval.every === 0 || step === totalSteps)) {
        Object.assign(row.metrics, await evaluate(cfg, engine, grader, tok, val, stopIds));
      }
      checkDiverged(step, row.metrics, lastCheckpoint?.dir);
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
    await metrics.close();
    await grader.close();
    if (hooks.engine === undefined) await engine.shutdown().catch(() => {});
  }
  log(`simplerl: ${aborted ? 'stopped' : 'done'} at step ${step}/${totalSteps}; run folder ${runDir}`);
  return { runDir, step, totalSteps, lastCheckpoint, lastMetrics, aborted };
}

/** Loads algo.estimator_module and checks that algo.estimator names a known estimator (before any engine starts). */
async function checkEstimator(cfg: ResolvedConfig): Promise<void> {
  if (cfg.algo.estimator_module !== null) await loadEstimatorModule(cfg.algo.estimator_module);
  try {
    getAdvantageEstimator(cfg.algo.estimator);
  } catch (err) {
    throw new Error(`${TRAIN_ERROR}: algo.estimator: ${(err as Error).message}`, { cause: err });
  }
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
  const lora = loraLoads(cfg, resumeFrom?.dir ?? null);
  await engine.load({
    role: 'policy',
    path: from('policy', cfg.model.path),
    dtype: cfg.model.dtype,
    optim: optim(o.actor_lr),
    gradCheckpointing: o.grad_checkpointing,
    ...resumeOpt('policy'),
    ...lora.policy,
  });
  if (useRef)
    await engine.load(lora.ref ?? { role: 'ref', path: cfg.model.ref_path, dtype: cfg.model.dtype });
  if (cfg.algo.name === 'ppo') {
    await engine.load({
      role: 'critic',
      path: from('critic', cfg.model.critic_path ?? cfg.model.path),
      dtype: cfg.model.dtype,
      seed: cfg.run.seed,
      optim: optim(o.critic_lr),
      gradCheckpointing: o.grad_checkpointing,
      ...resumeOpt('critic'),
      ...lora.critic,
    });
  }
}

export function resolveStopIds(cfg: ResolvedConfig, tok: TextTokenizer): number[] {
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

/** One RL step as named phases over typed records (src/rl/step/): rollout + grade, score, estimate, update, log. */
async function trainStep(ctx: StepContext): Promise<{ metrics: MetricsRow; numOptimizerSteps: number }> {
  const t0 = performance.now();
  const drawn = await drawPhase(ctx);
  const scored = await scorePhase(ctx, drawn);
  const t3 = performance.now();
  const est = estimatePhase(ctx, drawn, scored);
  const upd = await updatePhase(ctx, drawn, scored, est);
  const t4 = performance.now();
  const metrics = logPhase(ctx, drawn, scored, est, upd, { t0, t3, t4 });
  return { metrics, numOptimizerSteps: upd.actorStats.length };
}
