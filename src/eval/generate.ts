/**
 * `simplerl eval --model DIR`: generate answers to benchmark problems with a checkpoint through the
 * engine, then grade and report them like a responses file.
 *
 * Decoding: greedy by default (temperature 0, the v0 table's setting), or n samples per problem at a
 * temperature. Prompt i of a benchmark is sampled with seed `seed + i`, so results do not depend on
 * the batch size. Stop ids: the tokenizer's eos ids (tokenizer_config.json + generation_config.json)
 * plus `<|im_end|>`, `<|endoftext|>` and `</s>` when the vocabulary has them (the harness's stop
 * words that are single tokens; its text stop words "assistant"/"user" are not used, since they also
 * cut ordinary sentences). The stop token is removed from the response text; `num_tokens` counts it.
 * Prompt + max tokens longer than the model's max_position_embeddings fails before generating.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EngineClient } from '../engine/index.ts';
import { checkCheckpointFolder } from '../run/checkpoints.ts';
import { checkPromptTemplate, renderPrompt } from '../tokenizer/prompts.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { parseMetricName } from './metrics.ts';
import type { Sample } from './responses-file.ts';
import {
  type BenchmarkOptions,
  EVAL_ERROR,
  type EvalResult,
  finishEval,
  loadBenchmarks,
  type OutputOptions,
  type ScoringOptions,
  scoreSamples,
  simplerlVersion,
} from './run-eval.ts';

export const CONTEXT_TOO_LONG = 'prompt + max tokens exceed the context';
export const DEFAULT_STOP_TOKENS = ['<|im_end|>', '<|endoftext|>', '</s>'];

export interface GenerationOptions {
  /** Hugging Face folder, or a run checkpoint folder holding policy/. */
  model: string;
  /** Tokenizer folder; default the model folder. */
  tokenizer?: string;
  /** Samples per problem (default 1). */
  n?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Max new tokens per response (default 3000, the v0 table's setting). */
  maxTokens?: number;
  /** Prompt template name or custom string with {input} (default: the run's model.prompt_template for a
   * checkpoint of a run, else qwen25-math-cot). */
  promptTemplate?: string;
  seed?: number;
  /** Prompts per engine call (default 64). */
  batchSize?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  python?: string;
  /** Reuse a running engine (tests, in-training eval); it is not shut down. */
  engine?: EngineClient;
}

export interface GenerateEvalOptions
  extends BenchmarkOptions,
    ScoringOptions,
    OutputOptions,
    GenerationOptions {}

/** A run checkpoint folder (checkpoints/step-N/) holds the weights in policy/. */
export function resolveModelDir(model: string): string {
  if (existsSync(join(model, 'config.json'))) return model;
  if (existsSync(join(model, 'policy', 'config.json'))) return join(model, 'policy');
  const latest = join(model, 'checkpoints', 'LATEST');
  if (existsSync(latest)) {
    const name = readFileSync(latest, 'utf8').trim();
    throw new Error(
      `${EVAL_ERROR} ${model} is a run folder: give one of its checkpoints, e.g. --model ${join(model, 'checkpoints', name)} (the latest)`,
    );
  }
  throw new Error(
    `${EVAL_ERROR} ${model} has no config.json (nor policy/config.json): not a Hugging Face model folder`,
  );
}

export const DEFAULT_EVAL_TEMPLATE = 'qwen25-math-cot';

/**
 * The prompt template a run trained with, when `modelDir` is one of its checkpoints
 * (`<run>/checkpoints/step-N/policy`): evaluating with another prompt than training measures something else.
 */
export function runPromptTemplate(modelDir: string): { template: string; configFile: string } | undefined {
  const abs = resolve(modelDir);
  if (basename(abs) !== 'policy' || basename(dirname(dirname(abs))) !== 'checkpoints') return undefined;
  const configFile = join(dirname(dirname(dirname(abs))), 'config.yaml');
  if (!existsSync(configFile)) return undefined;
  try {
    const template = (
      parseYaml(readFileSync(configFile, 'utf8')) as { model?: { prompt_template?: unknown } }
    )?.model?.prompt_template;
    return typeof template === 'string' ? { template, configFile } : undefined;
  } catch {
    return undefined;
  }
}

export function stopIdsOf(tok: TextTokenizer): number[] {
  const ids = new Set(tok.eosTokenIds);
  for (const t of DEFAULT_STOP_TOKENS) {
    const id = tok.tokenToId(t);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

function maxPositions(modelDir: string): number | undefined {
  const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const v = cfg.max_position_embeddings;
  return typeof v === 'number' ? v : undefined;
}

export async function generateAndScore(opts: GenerateEvalOptions): Promise<EvalResult> {
  const startedAt = Date.now();
  const log = opts.log ?? (() => {});
  const n = opts.n ?? 1;
  const temperature = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  const topK = opts.topK ?? 0;
  const maxTokens = opts.maxTokens ?? 3000;
  const seed = opts.seed ?? 0;
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${EVAL_ERROR} n must be an integer >= 1, got ${n}`);
  if (temperature === 0 && n > 1) {
    throw new Error(
      `${EVAL_ERROR} n=${n} samples with temperature 0 are ${n} copies of the greedy answer: give --temperature > 0`,
    );
  }
  if (!(topP > 0 && topP <= 1)) throw new Error(`${EVAL_ERROR} --top-p must be in (0, 1], got ${topP}`);
  // Checked before the engine starts: scoring would find it only after every sample is generated.
  for (const m of opts.metrics ?? []) {
    const { k } = parseMetricName(m);
    if (k > n)
      throw new Error(
        `${EVAL_ERROR} metric ${m} needs ${k} samples per problem but --n is ${n} (generate with --n ${k} or more)`,
      );
  }
  const modelDir = resolveModelDir(opts.model);
  await checkCheckpointFolder(modelDir);
  const fromRun = opts.promptTemplate === undefined ? runPromptTemplate(modelDir) : undefined;
  const template = opts.promptTemplate ?? fromRun?.template ?? DEFAULT_EVAL_TEMPLATE;
  if (fromRun !== undefined)
    log(`prompt template ${JSON.stringify(template)}: the one the run trained with (${fromRun.configFile})`);
  checkPromptTemplate(template);
  const tok = await TextTokenizer.fromDir(opts.tokenizer ?? modelDir);
  const stopIds = stopIdsOf(tok);
  const benchmarks = await loadBenchmarks(opts);
  const context = maxPositions(modelDir);
  const encoded = benchmarks.map((b) =>
    b.problems.map((p) => {
      const ids = tok.encode(renderPrompt(template, p.problem, tok));
      if (context !== undefined && ids.length + maxTokens > context) {
        throw new Error(
          `${CONTEXT_TOO_LONG}: ${b.name} problem ${JSON.stringify(p.id)} has a ${ids.length}-token prompt; ` +
            `${ids.length} + --max-tokens ${maxTokens} > max_position_embeddings ${context} of ${modelDir}. Fix: lower --max-tokens`,
        );
      }
      return ids;
    }),
  );
  const engine =
    opts.engine ??
    (await EngineClient.start({
      ...(opts.device ? { device: opts.device } : {}),
      ...(opts.threads ? { threads: opts.threads } : {}),
      ...(opts.python ? { python: opts.python } : {}),
    }));
  const samples = new Map<string, Map<string, Sample[]>>();
  let hello: Awaited<ReturnType<EngineClient['hello']>>;
  let loaded: Awaited<ReturnType<EngineClient['load']>>;
  let numTokens = 0;
  const genStart = Date.now();
  try {
    hello = await engine.hello();
    loaded = await engine.load({ role: 'policy', path: modelDir });
    log(
      `engine ${hello.engineVersion}, torch ${hello.torch}, ${loaded.device} ${loaded.dtype}; model ${modelDir}`,
    );
    const stopSet = new Set(stopIds);
    for (const [bi, b] of benchmarks.entries()) {
      const byId = new Map<string, Sample[]>();
      for (let start = 0; start < b.problems.length; start += batchSize) {
        const idx = b.problems.slice(start, start + batchSize).map((_, j) => start + j);
        const offsets = new Int32Array(idx.length + 1);
        idx.forEach((i, j) => {
          offsets[j + 1] = offsets[j] + encoded[bi][i].length;
        });
        const ids = new Int32Array(offsets[idx.length]);
        idx.forEach((i, j) => {
          ids.set(encoded[bi][i], offsets[j]);
        });
        const gen = await engine.generate(
          { ids, offsets },
          { n, temperature, topP, topK, maxNewTokens: maxTokens, stopIds, seeds: idx.map((i) => seed + i) },
        );
        numTokens += gen.numTokens;
        idx.forEach((i, j) => {
          const list: Sample[] = [];
          for (let s = 0; s < n; s++) {
            const k = j * n + s;
            const from = gen.offsets[k];
            let to = gen.offsets[k + 1];
            const finished = gen.finish[k] === 'stop';
            if (finished && to > from && stopSet.has(gen.ids[to - 1])) to--;
            list.push({
              response: tok.decode(gen.ids.subarray(from, to)),
              finished,
              numTokens: gen.offsets[k + 1] - from,
            });
          }
          byId.set(b.problems[i].id, list);
        });
        log(`${b.name}: ${Math.min(start + batchSize, b.problems.length)}/${b.problems.length} problems`);
      }
      samples.set(b.name, byId);
    }
  } finally {
    if (!opts.engine) await engine.shutdown();
  }
  const generateSeconds = (Date.now() - genStart) / 1000;
  const scored = await scoreSamples(benchmarks, samples, opts);
  return finishEval(benchmarks, scored, {
    mode: 'generate',
    out: opts.out,
    label: opts.label,
    model: opts.modelName ?? basename(opts.model.replace(/\/+$/, '')),
    settings: {
      model: modelDir,
      tokenizer: opts.tokenizer ?? modelDir,
      benchmarks: benchmarks.map((b) => b.name),
      limit: opts.limit ?? null,
      n,
      temperature,
      top_p: topP,
      top_k: topK,
      max_tokens: maxTokens,
      prompt_template: template,
      seed,
      stop_ids: stopIds,
      batch_size: batchSize,
      extract: opts.extract ?? 'any',
      grader_timeout_ms: opts.graderTimeoutMs ?? 3000,
      metrics: scored.metrics,
      reflection_phrases: opts.phrases ?? null,
      generated_tokens: numTokens,
      generate_seconds: generateSeconds,
    },
    versions: {
      simplerl: simplerlVersion(),
      node: process.version,
      engine: hello.engineVersion,
      torch: hello.torch,
      device: loaded.device,
      dtype: loaded.dtype,
      cuda_name: hello.cudaName,
      world_size: hello.worldSize,
    },
    startedAt,
    phrases: opts.phrases,
  });
}
