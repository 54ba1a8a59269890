// Public types of the engine client (engine/PROTOCOL.md is the contract; names here are camelCase,
// the wire is snake_case).

export type Role = 'policy' | 'ref' | 'critic';
export type Device = 'cpu' | 'cuda' | 'auto';
export type LossName = 'ppo' | 'grpo' | 'gspo' | 'sft' | 'value';
export type ForwardOutput = 'logprobs' | 'entropy' | 'values';
export type FinishReason = 'stop' | 'length';

/** B sequences back to back: ids[offsets[b] .. offsets[b + 1]) is sequence b. */
export interface Ragged {
  ids: Int32Array;
  offsets: Int32Array;
}

/** Full sequences (prompt + response); per-token arrays cover response tokens only. */
export interface SeqBatch extends Ragged {
  promptLens: Int32Array;
}

import type { ThreadChoice } from './threads.ts';

export interface StartOptions {
  /** Python interpreter; default $SIMPLERL_PYTHON, else <repo>/.venv/bin/python. */
  python?: string;
  device?: Device;
  /**
   * torch intra-op threads. Default: picked from the cores free right now (threads.ts; a 0.5 s sample),
   * said on stderr when the machine is busy; under a launcher (torchrun) torch's choice.
   */
  threads?: number;
  /** Called with the thread choice when `threads` was not given (default: a stderr line when busy). */
  onThreads?: (choice: ThreadChoice) => void;
  env?: Record<string, string>;
  /** No frame (answer or heartbeat) for this long declares the engine hung: it is killed. Default 30 s. */
  heartbeatTimeoutMs?: number;
  /** Seconds between the engine's heartbeats (default 2); keep well below heartbeatTimeoutMs. */
  heartbeatIntervalS?: number;
  /** Lines of engine stderr kept for EngineDiedError (default 50). */
  stderrTailLines?: number;
  /** Every engine stderr line (logs); default: dropped (kept only in the tail). */
  onLog?: (line: string) => void;
  /** Time to wait for the engine's ready line (default 120 s: importing torch can be slow). */
  startTimeoutMs?: number;
  /** Interpreter arguments before `-m simplerl_engine`: a launcher such as torchrun (src/engine/launch.ts). */
  launcherArgs?: string[];
}

export interface HelloResult {
  protocol: number;
  engineVersion: string;
  torch: string;
  device: string;
  dtype: string;
  worldSize: number;
  threads: number;
  cudaName: string | null;
}

export interface OptimArgs {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Max global grad norm; null disables clipping. Default 1.0. */
  gradClip?: number | null;
  schedule?: 'constant' | 'cosine';
  warmupSteps?: number;
  /** Cosine: the optimiser step at which lr reaches minLrRatio * lr. */
  totalSteps?: number;
  minLrRatio?: number;
}

export interface LoadArgs {
  role: Role;
  /** Hugging Face folder (config.json + safetensors). Exactly one of path / config. */
  path?: string;
  /** Hugging Face config map (snake_case as in config.json), for random weights. */
  config?: Record<string, unknown>;
  seed?: number;
  dtype?: 'auto' | 'float32' | 'bfloat16';
  /** Critic loaded from a policy folder: its new value head, zeros (default) or random. */
  valueHeadFrom?: 'zeros' | 'random';
  /** Present for roles that train (policy, critic). */
  optim?: OptimArgs;
  gradCheckpointing?: boolean;
  /** optimizer.pt written by save({ optimizer: true }). */
  resumeOptimizer?: string;
}

export interface LoadResult {
  numParams: number;
  config: Record<string, unknown>;
  dtype: string;
  device: string;
}

export interface GenerateArgs {
  role?: Role;
  n?: number;
  /** 0 = greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  maxNewTokens: number;
  stopIds?: number[];
  /** One per prompt; sample j of prompt i depends only on seeds[i], j and the weights. */
  seeds?: number[];
  /** When seeds is absent: seeds[i] = seed + i. */
  seed?: number;
  /** Cap on the rows (prompts × n) generated at once per rank; the KV budget sizes waves below it. */
  maxRowsPerWave?: number | null;
}

export interface GenerateResult {
  /** Generated tokens only (stop token included), prompt-major: prompt 0 samples 0..n-1, prompt 1, ... */
  ids: Int32Array;
  offsets: Int32Array;
  /** Behaviour log-prob of each generated token under log_softmax(logits / temperature). */
  logprobs: Float32Array;
  finish: FinishReason[];
  numTokens: number;
  seconds: number;
}

export interface ForwardArgs {
  role: Role;
  outputs: ForwardOutput[];
  temperature?: number;
  microBatchTokens?: number;
}

export interface ForwardResult {
  logprobs?: Float32Array;
  entropy?: Float32Array;
  values?: Float32Array;
}

/** Per response token (length = sum of response lengths). */
export interface TrainBatch extends SeqBatch {
  /** 1 = the token counts in the loss; default all ones. */
  mask?: Uint8Array;
  advantages?: Float32Array;
  oldLogprobs?: Float32Array;
  refLogprobs?: Float32Array;
  returns?: Float32Array;
  oldValues?: Float32Array;
}

export interface TrainArgs {
  role: Role;
  loss: LossName;
  /** Loss options; camelCase or snake_case keys (clipEps = clip_eps). See PROTOCOL.md `train`. */
  lossArgs?: Record<string, unknown>;
  /** Fixed denominator of the aggregation for the whole step (global masked tokens, or sequences). */
  lossNorm?: number;
  temperature?: number;
  microBatchTokens?: number;
  /** false: accumulate gradients only; the next call with true applies them. Default true. */
  step?: boolean;
}

export interface TrainStats {
  /** The back-propagated objective of this call (with lossNorm: this call's share of the step's loss). */
  loss: number;
  pgLoss?: number;
  kl?: number;
  entropy?: number;
  clipFrac?: number;
  ratioMean?: number;
  vfLoss?: number;
  vfClipFrac?: number;
  nll?: number;
  /** Global grad norm before clipping (step: false gives the norm accumulated so far). */
  gradNorm: number;
  lr: number;
  numTokens: number;
  numSeqs: number;
  seconds: number;
}

export interface SaveArgs {
  role: Role;
  path: string;
  optimizer?: boolean;
}
