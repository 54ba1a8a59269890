// `simplerl eval`: benchmark scores of a checkpoint (generated through the engine) or of a file of
// existing responses. Writes summary.json, results.md, per_problem.jsonl and responses.jsonl.
import { basename, dirname, join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { deviceOption, extractOption, parseList, parsePositiveInt } from '../options.ts';

export const BAD_FIELDS = 'expected --fields like id=key,problem=question,answer=gold';
export const BAD_NUMBER = 'expected a number';
export const EVAL_MODE_ERROR =
  'give exactly one of --model DIR (generate) or --responses FILE (score existing outputs)';

const FIELD_NAMES = ['id', 'problem', 'answer', 'solution'] as const;

export function parseFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of parseList(text)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq <= 0 || value === '' || !(FIELD_NAMES as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `${BAD_FIELDS} (keys: ${FIELD_NAMES.join(', ')}), got ${JSON.stringify(part)}`,
      );
    }
    out[key] = value;
  }
  return out;
}

export function parseNonNegative(text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x < 0)
    throw new InvalidArgumentError(`${BAD_NUMBER} >= 0, got ${text}`);
  return x;
}

/**
 * Default output folder: a checkpoint inside a run (`runs/<name>/checkpoints/<ckpt>[/policy]`) evaluates
 * into `runs/<name>/eval/<ckpt>`; anything else into `evals/<model or responses name>`.
 */
export function defaultEvalOut(source: string): string {
  let dir = source.replace(/\/+$/, '');
  if (basename(dir) === 'policy') dir = dirname(dir);
  if (basename(dirname(dir)) === 'checkpoints') return join(dirname(dirname(dir)), 'eval', basename(dir));
  return join('evals', basename(dir).replace(/\.jsonl$/, ''));
}

export interface EvalCliOptions {
  benchmarks: string[];
  data?: string;
  download: boolean;
  cacheDir?: string;
  fields?: Record<string, string>;
  limit?: number;
  responses?: string;
  out?: string;
  label?: string;
  name?: string;
  metrics?: string[];
  extract: 'boxed' | 'any';
  graderTimeoutMs: number;
  reflectionPhrases?: string[];
  model?: string;
  tokenizer?: string;
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  promptTemplate?: string;
  seed: number;
  batchSize: number;
  device: 'auto' | 'cpu' | 'cuda';
  threads?: number;
}

export function parseNonNegativeInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer >= 0, got ${text}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'score a model on math benchmarks (GSM8K, MATH500, Minerva Math, OlympiadBench, AIME24, AMC23, or any JSONL): ' +
        'pass@1, avg@k, maj@k, pass@k. Generate: simplerl eval --model DIR --benchmarks math500,gsm8k --data data/; ' +
        'score existing outputs: simplerl eval --responses out.jsonl --benchmarks math500 --data data/',
    )
    .requiredOption(
      '--benchmarks <list>',
      'comma-separated: aime24, math500, amc23, minerva_math, olympiadbench, gsm8k, or LABEL=PATH for any JSONL/JSON/Parquet file',
      parseList,
    )
    .option(
      '--data <dir>',
      'folder with DIR/<name>/test.jsonl (Qwen2.5-Math layout) or DIR/<name>.jsonl (or .parquet)',
    )
    .option(
      '--download',
      'fetch a built-in benchmark missing from --data from the Hugging Face hub into the cache',
      false,
    )
    .option('--cache-dir <dir>', 'download cache (default $SIMPLERL_CACHE_DIR or ~/.cache/simplerl)')
    .option(
      '--fields <map>',
      'field names of LABEL=PATH files: id=F,problem=F,answer=F,solution=F',
      parseFields,
    )
    .option('--limit <n>', 'first N problems of each benchmark (smoke runs)', parsePositiveInt)
    .option(
      '--model <dir>',
      'generate with this Hugging Face folder (or run checkpoint folder) through the engine',
    )
    .option('--tokenizer <dir>', 'tokenizer folder (default the model folder)')
    .option('--n <n>', 'samples per problem', parsePositiveInt, 1)
    .option(
      '--temperature <t>',
      '0 = greedy (the v0 table); v1 sampled zero-RL models at 1.0 with --top-p 0.95',
      parseNonNegative,
      0,
    )
    .option('--top-p <p>', 'nucleus sampling mass', parseNonNegative, 1)
    .option('--top-k <k>', '0 = off', parseNonNegativeInt, 0)
    .option('--max-tokens <n>', 'max new tokens per response (v0: 3000; v1: 16000)', parsePositiveInt, 3000)
    .option(
      '--prompt-template <name>',
      "qwen25-math-cot, qwen-boxed, abel, plain, chat, or a string with {input} (default: for a run's checkpoint the " +
        "run's model.prompt_template, else qwen25-math-cot)",
    )
    .option('--seed <n>', 'sampling seed (problem i uses seed + i)', parseNonNegativeInt, 0)
    .option('--batch-size <n>', 'prompts per engine call', parsePositiveInt, 64)
    .addOption(deviceOption())
    .option('--threads <n>', 'engine torch threads', parsePositiveInt)
    .option(
      '--responses <file>',
      'score existing outputs: JSONL lines {"id"|"problem", "response", "benchmark"?, "finished"?, "num_tokens"?}',
    )
    .option(
      '--out <dir>',
      'output folder (default runs/<name>/eval/<checkpoint> for a run checkpoint, else evals/<name>)',
    )
    .option('--label <label>', 'heading of results.md (default the output folder name)')
    .option(
      '--name <name>',
      'model name in the results table (default the model folder or responses file name)',
    )
    .option(
      '--metrics <list>',
      'e.g. pass@1,avg@8,maj@8,pass@8 (default pass@1, plus pass@2^i, avg@n, maj@n with n > 1)',
      parseList,
    )
    .addOption(
      extractOption(
        'answer extraction: any (box, "the answer is", last number; the harness default) or boxed',
        'any',
      ),
    )
    .option(
      '--grader-timeout-ms <ms>',
      'time budget of one verdict; a timeout counts as wrong (the harness used 3000)',
      parsePositiveInt,
      3000,
    )
    .option(
      '--reflection-phrases <list>',
      'comma-separated reflection phrases for the response statistics',
      parseList,
    )
    .action(async (opts: EvalCliOptions) => {
      if ((opts.model === undefined) === (opts.responses === undefined)) throw new Error(EVAL_MODE_ERROR);
      const source = (opts.model ?? opts.responses) as string;
      const out = opts.out ?? defaultEvalOut(source);
      const log = (msg: string) => process.stderr.write(`${msg}\n`);
      const common = {
        benchmarks: opts.benchmarks,
        dataDir: opts.data,
        download: opts.download,
        cacheDir: opts.cacheDir,
        fields: opts.fields,
        limit: opts.limit,
        out,
        label: opts.label,
        modelName: opts.name,
        metrics: opts.metrics,
        extract: opts.extract,
        graderTimeoutMs: opts.graderTimeoutMs,
        phrases: opts.reflectionPhrases,
        log,
      };
      let summary: import('../../eval/report.ts').EvalSummary;
      if (opts.responses !== undefined) {
        const { scoreResponses } = await import('../../eval/run-eval.ts');
        ({ summary } = await scoreResponses({ ...common, responses: opts.responses }));
      } else {
        const { generateAndScore } = await import('../../eval/generate.ts');
        ({ summary } = await generateAndScore({
          ...common,
          model: opts.model as string,
          tokenizer: opts.tokenizer,
          n: opts.n,
          temperature: opts.temperature,
          topP: opts.topP,
          topK: opts.topK,
          maxTokens: opts.maxTokens,
          promptTemplate: opts.promptTemplate,
          seed: opts.seed,
          batchSize: opts.batchSize,
          device: opts.device,
          threads: opts.threads,
        }));
      }
      const { renderResultsMd } = await import('../../eval/report.ts');
      process.stdout.write(renderResultsMd(summary));
      log(`wrote ${out}/summary.json, results.md, per_problem.jsonl, responses.jsonl`);
    });
}
