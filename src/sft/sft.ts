import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PromptSampler } from '../data/sampler.ts';
import type { EngineClient, SeqBatch } from '../engine/index.ts';
import { copyTokenizerFiles, TextTokenizer } from '../tokenizer/tokenizer.ts';
import { loadSftData, type SftExample } from './sft-data.ts';

/**
 * Warm-up supervised fine-tuning: next-token loss on the response tokens only (the prompt is context,
 * masked out of the loss), through the engine's `train` op with `loss: 'sft'`. The order is shuffled
 * per epoch by PromptSampler; the optimiser uses a cosine schedule with linear warm-up.
 */

export interface SftOptions {
  /** Hugging Face folder of the initial weights (and tokenizer). */
  model: string;
  /** SFT JSONL: {prompt, response} or {problem, response} per line. */
  data: string;
  /** Output Hugging Face folder (weights + the model's tokenizer files). */
  out: string;
  /** Passes over the data (fractional allowed; default 2). */
  epochs?: number;
  /** Peak learning rate (default 1e-5). */
  lr?: number;
  /** Sequences per optimiser step (default 32); ignored when batchTokens is given. */
  batchSize?: number;
  /** Tokens (prompt + response) per optimiser step: sequences are packed up to this budget. */
  batchTokens?: number;
  /** Token budget of one engine micro-batch (default 8192). */
  microBatchTokens?: number;
  /** Examples longer than this (prompt + response) are dropped (default 4096). */
  maxTokens?: number;
  /** Share of steps of linear warm-up (default 0.03). */
  warmupRatio?: number;
  /** Final lr as a share of lr (default 0). */
  minLrRatio?: number;
  weightDecay?: number;
  /** Prompt template for records with `problem` instead of `prompt` (default qwen25-math-cot). */
  promptTemplate?: string;
  seed?: number;
  /** An engine to use (its policy role is replaced); default: start one and shut it down at the end. */
  engine?: EngineClient;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  dtype?: 'auto' | 'float32' | 'bfloat16';
  onStep?: (m: SftStepMetrics) => void;
  /** Stop early after this many optimiser steps (tests, smoke runs). */
  maxSteps?: number;
}

export interface SftStepMetrics {
  step: number;
  numSteps: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  lr: number;
  numTokens: number;
  numSeqs: number;
  seconds: number;
}

export interface SftResult {
  out: string;
  numExamples: number;
  numTooLong: number;
  numSteps: number;
  metrics: SftStepMetrics[];
}

/** Marks a folder written by sft: a later sft may replace it (any other non-empty folder is refused). */
export const SFT_MARKER = '.simplerl-sft';
export const SFT_OUT_ERROR = 'sft --out';

/**
 * Refuses an output folder that sft would destroy without having written it: the engine's save replaces
 * the whole folder. A folder marked as an earlier sft output is replaced, so rerunning with the same --out
 * just works (as `simplerl demo --out` does). HF example scripts ask for `--overwrite_output_dir` instead,
 * but a flag gets added to every rerun and then also clobbers a mistyped --out (the base model folder, a
 * dataset folder); the marker keeps reruns free and everything else safe.
 */
export function checkSftOut(out: string, model: string): void {
  if (resolve(out) === resolve(model))
    throw new Error(
      `${SFT_OUT_ERROR} ${out}: is the --model folder (it would be replaced); choose another --out`,
    );
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`${SFT_OUT_ERROR} ${out}: exists and is not a folder`);
  if (readdirSync(out).length > 0 && !existsSync(join(out, SFT_MARKER)))
    throw new Error(
      `${SFT_OUT_ERROR} ${out}: exists, is not empty and is not an earlier sft output (no ${SFT_MARKER}); ` +
        'sft replaces the whole folder, so choose another --out or remove this one',
    );
}

/** Splits the example order into optimiser steps: by count, or packed up to a token budget. */
export function planSteps(
  order: number[],
  examples: SftExample[],
  opts: { batchSize?: number; batchTokens?: number },
): number[][] {
  const steps: number[][] = [];
  if (opts.batchTokens !== undefined) {
    let current: number[] = [];
    let numTokens = 0;
    for (const i of order) {
      const len = examples[i].promptIds.length + examples[i].responseIds.length;
      if (current.length > 0 && numTokens + len > opts.batchTokens) {
        steps.push(current);
        current = [];
        numTokens = 0;
      }
      current.push(i);
      numTokens += len;
    }
    if (current.length > 0) steps.push(current);
  } else {
    const size = opts.batchSize ?? 32;
    for (let s = 0; s < order.length; s += size) steps.push(order.slice(s, s + size));
  }
  return steps;
}

/** The engine batch of one step: full sequences, prompt lengths, and a response mask of ones. */
export function sftBatch(examples: SftExample[], indices: number[]): SeqBatch {
  const offsets = new Int32Array(indices.length + 1);
  const promptLens = new Int32Array(indices.length);
  indices.forEach((i, b) => {
    promptLens[b] = examples[i].promptIds.length;
    offsets[b + 1] = offsets[b] + examples[i].promptIds.length + examples[i].responseIds.length;
  });
  const ids = new Int32Array(offsets[indices.length]);
  indices.forEach((i, b) => {
    ids.set(examples[i].promptIds, offsets[b]);
    ids.set(examples[i].responseIds, offsets[b] + promptLens[b]);
  });
  return { ids, offsets, promptLens };
}

/** Runs SFT and saves the result to `opts.out` (weights + tokenizer files + sft_metrics.jsonl). */
export async function runSft(opts: SftOptions): Promise<SftResult> {
  const modelDir = resolve(opts.model);
  const out = resolve(opts.out);
  const epochs = opts.epochs ?? 2;
  const lr = opts.lr ?? 1e-5;
  if (!(epochs > 0)) throw new Error(`sft: epochs must be > 0, got ${epochs}`);
  if (!(lr > 0)) throw new Error(`sft: lr must be > 0, got ${lr}`);
  if (opts.batchTokens !== undefined && !(Number.isInteger(opts.batchTokens) && opts.batchTokens > 0))
    throw new Error(`sft: batchTokens must be a positive integer, got ${opts.batchTokens}`);
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize > 0))
    throw new Error(`sft: batchSize must be a positive integer, got ${opts.batchSize}`);
  checkSftOut(out, modelDir);
  const tok = await TextTokenizer.fromDir(modelDir);
  const data = await loadSftData(opts.data, tok, {
    promptTemplate: opts.promptTemplate,
    maxTokens: opts.maxTokens ?? 4096,
  });
  const { examples } = data;
  const sampler = new PromptSampler(examples.length, opts.seed ?? 0);
  const order = sampler.next(Math.ceil(epochs * examples.length));
  let steps = planSteps(order, examples, opts);
  if (opts.maxSteps !== undefined) steps = steps.slice(0, opts.maxSteps);
  const numSteps = steps.length;

  let engine = opts.engine;
  let owned = false;
  if (!engine) {
    const { EngineClient } = await import('../engine/index.ts');
    engine = await EngineClient.start({
      device: opts.device ?? 'auto',
      ...(opts.threads ? { threads: opts.threads } : {}),
    });
    owned = true;
  }
  const metrics: SftStepMetrics[] = [];
  try {
    await engine.load({
      role: 'policy',
      path: modelDir,
      dtype: opts.dtype ?? 'auto',
      seed: opts.seed ?? 0,
      optim: {
        lr,
        weightDecay: opts.weightDecay ?? 0,
        schedule: 'cosine',
        // the engine's cosine needs warm-up < total steps (a 1-step run has no warm-up)
        warmupSteps: Math.min(Math.ceil((opts.warmupRatio ?? 0.03) * numSteps), numSteps - 1),
        totalSteps: numSteps,
        minLrRatio: opts.minLrRatio ?? 0,
      },
    });
    let numSeen = 0;
    for (let s = 0; s < numSteps; s++) {
      const batch = sftBatch(examples, steps[s]);
      const stats = await engine.train(batch, {
        role: 'policy',
        loss: 'sft',
        microBatchTokens: opts.microBatchTokens ?? 8192,
      });
      numSeen += steps[s].length;
      const m: SftStepMetrics = {
        step: s + 1,
        numSteps,
        epoch: numSeen / examples.length,
        loss: stats.loss,
        gradNorm: stats.gradNorm,
        lr: stats.lr,
        numTokens: stats.numTokens,
        numSeqs: steps[s].length,
        seconds: stats.seconds,
      };
      metrics.push(m);
      opts.onStep?.(m);
    }
    await engine.save({ role: 'policy', path: out });
  } finally {
    if (owned) await engine.shutdown();
  }
  copyTokenizerFiles(modelDir, out);
  await writeFile(join(out, 'sft_metrics.jsonl'), metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
  await writeFile(
    join(out, SFT_MARKER),
    'written by `simplerl sft`; the next sft with this --out replaces this folder\n',
  );
  return { out, numExamples: examples.length, numTooLong: data.numTooLong, numSteps, metrics };
}
