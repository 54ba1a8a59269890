// Typed records that flow through one RL step (src/rl/trainer.ts `trainStep`):
//   rollout → grade → score → estimate → update → log
// Each phase is a small function in this folder that reads the records before it and returns its own.
import type { ResolvedConfig } from '../../config/resolve.ts';
import type { PromptSampler } from '../../data/sampler.ts';
import type { EngineClient, TrainStats } from '../../engine/index.ts';
import type { RunPaths } from '../../run/index.ts';
import type { TextTokenizer } from '../../tokenizer/tokenizer.ts';
import type { RolloutBatch } from '../batch.ts';
import type { KlController } from '../kl.ts';
import type { PromptItem, PromptSet } from '../prompt-set.ts';
import type { GradeResult, RewardGrader } from '../reward.ts';

export interface StepContext {
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

export interface Sample {
  promptIndex: number;
  item: PromptItem;
  text: string;
  numTokens: number;
  finished: boolean;
}

/** Generated responses: prompt-major, n per prompt; token arrays flat over all responses. */
export interface Rollout {
  picked: PromptItem[];
  promptIds: Int32Array[];
  genIds: Int32Array;
  genOffsets: Int32Array;
  /** [T] log-probs of the sampled tokens under the generator. */
  genLogprobs: Float32Array;
  samples: Sample[];
}

/** Verdicts of the grader, one per sample. */
export interface Graded {
  grades: GradeResult[];
  /** [R] the grader's rewards, before any shaping. */
  scores: Float32Array;
}

/** What the rollout + grade phases produced in one step (over every sampling round). */
export interface Drawn {
  /** Epoch of the sampler when the step began. */
  epoch: number;
  /** Everything generated this step (metrics and rollout logs cover it all). */
  all: Rollout;
  allGraded: Graded;
  /** The groups that go on to training (all of `all` unless dynamic sampling filtered them). */
  train: Rollout;
  trainGraded: Graded;
  numPromptsDrawn: number;
  numPromptsDropped: number;
  numRounds: number;
  generateSeconds: number;
  rewardSeconds: number;
}

/** Per-sample scores and per-token log-probs / values of the training batch. */
export interface Scored {
  batch: RolloutBatch;
  /** [R] rewards after shaping (overlong penalty). */
  scores: Float32Array;
  /** [R] the overlong penalty added to each reward (0 when off). */
  overlongPenalty: Float32Array;
  /** [T] behaviour log-probs of the PPO ratio. */
  oldLogprobs: Float32Array;
  /** [T] the trainer's log-probs of the rollout policy, when computed (recompute or TIS). */
  trainerLogprobs: Float32Array | null;
  refLogprobs: Float32Array | null;
  values: Float32Array | null;
  temperature: number;
}

export interface Estimated {
  mask: Uint8Array;
  klTok: Float32Array;
  klCoef: number;
  advantages: Float32Array;
  returns: Float32Array;
}

export interface Updated {
  actorStats: TrainStats[];
  criticStats: TrainStats[];
  numGroupsKept: number;
}
