// `simplerl sft`: supervised fine-tuning on (prompt, response) pairs, loss on the response tokens only.
import { type Command, InvalidArgumentError } from 'commander';
import {
  type DeviceChoice,
  type DtypeChoice,
  deviceOption,
  dtypeOption,
  parseInteger,
  parsePositiveInt,
} from '../options.ts';

function parsePositive(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got ${text}`);
  return n;
}

function parseRatio(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`expected a number in [0, 1], got ${text}`);
  return n;
}

interface SftCliOptions {
  model: string;
  data: string;
  out: string;
  epochs: number;
  lr: number;
  batchSize: number;
  batchTokens?: number;
  microBatchTokens: number;
  maxTokens: number;
  warmupRatio: number;
  minLrRatio: number;
  weightDecay: number;
  promptTemplate: string;
  seed: number;
  device: DeviceChoice;
  threads?: number;
  dtype: DtypeChoice;
  maxSteps?: number;
}

export function register(program: Command): void {
  program
    .command('sft')
    .description(
      'supervised fine-tuning (the warm-up of SimpleRL): next-token loss on response tokens only, prompt tokens masked. ' +
        'Data: JSONL of {prompt, response} (from `simplerl distill`) or {problem, response}. Writes a Hugging Face folder.',
    )
    .requiredOption('--model <dir>', 'Hugging Face folder of the initial weights and tokenizer')
    .requiredOption('--data <sft.jsonl>', 'SFT data')
    .requiredOption(
      '--out <dir>',
      'output Hugging Face folder (weights, tokenizer files, sft_metrics.jsonl); replaced if an earlier sft ' +
        'output, any other non-empty folder is refused',
    )
    .option('--epochs <k>', 'passes over the data (fractional allowed)', parsePositive, 2)
    .option('--lr <lr>', 'peak learning rate (cosine schedule)', parsePositive, 1e-5)
    .option('--batch-size <k>', 'sequences per optimiser step', parsePositiveInt, 32)
    .option(
      '--batch-tokens <k>',
      'pack sequences per optimiser step up to this many tokens (overrides --batch-size)',
      parsePositiveInt,
    )
    .option('--micro-batch-tokens <k>', 'token budget of one engine micro-batch', parsePositiveInt, 8192)
    .option('--max-tokens <k>', 'drop examples whose prompt + response is longer', parsePositiveInt, 4096)
    .option('--warmup-ratio <r>', 'share of steps of linear warm-up', parseRatio, 0.03)
    .option('--min-lr-ratio <r>', 'final lr as a share of --lr', parseRatio, 0)
    .option('--weight-decay <w>', 'AdamW weight decay', Number, 0)
    .option(
      '--prompt-template <name|string>',
      'for {problem} records: qwen25-math-cot | qwen-boxed | abel | plain | chat | string with {input}',
      'qwen25-math-cot',
    )
    .option('--seed <n>', 'shuffling and init seed', parseInteger, 0)
    .addOption(deviceOption())
    .option('--threads <n>', 'torch threads on CPU', parsePositiveInt)
    .addOption(dtypeOption())
    .option('--max-steps <k>', 'stop after k optimiser steps', parsePositiveInt)
    .action(async (opts: SftCliOptions) => {
      const { device, dtype } = opts;
      const { runSft } = await import('../../sft/sft.ts');
      const result = await runSft({
        ...opts,
        device,
        dtype,
        onStep: (m) =>
          process.stderr.write(
            `sft step ${m.step}/${m.numSteps} epoch ${m.epoch.toFixed(2)} loss ${m.loss.toFixed(4)} grad_norm ${m.gradNorm.toFixed(3)} lr ${m.lr.toExponential(2)} tokens ${m.numTokens}\n`,
          ),
      });
      process.stdout.write(
        `${JSON.stringify({ out: result.out, numExamples: result.numExamples, numTooLong: result.numTooLong, numSteps: result.numSteps, finalLoss: result.metrics.at(-1)?.loss ?? null })}\n`,
      );
    });
}
