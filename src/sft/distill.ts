import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type FieldMapping, loadProblemsReport, type Problem } from '../data/problems.ts';
import { Grader, type GraderOptions } from '../reward/index.ts';
import { checkPromptTemplate, renderPrompt } from '../tokenizer/prompts.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { completionsUrl, postCompletions } from './completions-client.ts';

/** One line of the SFT data written by distill (and read by sft). */
export interface SftRecord {
  prompt: string;
  response: string;
  problem_id: string;
  problem?: string;
}

export interface DistillOptions {
  /** Base URL of an OpenAI-compatible server (`http://host:8000`, `.../v1` or `.../v1/completions`). */
  teacher: string;
  /** Model name sent in each request. */
  model: string;
  /** Problems file (JSONL / JSON / Parquet, see loadProblems). */
  data: string;
  /** Output JSONL of verified {prompt, response, problem_id, problem}. */
  out: string;
  /** Samples per problem (default 4). */
  n?: number;
  temperature?: number;
  topP?: number;
  /** max_tokens of each completion (default 2048). */
  maxTokens?: number;
  /** Prompt template name or custom string with {input} (default qwen25-math-cot); `chat` needs `tokenizer`. */
  promptTemplate?: string;
  tokenizer?: TextTokenizer;
  /** Stop strings sent to the teacher. */
  stop?: string[];
  /** Problems per request (default 8). */
  batchSize?: number;
  /** Requests in flight (default 2). */
  concurrency?: number;
  /** Keep at most k verified solutions per problem (default: all). */
  maxPerProblem?: number;
  /** Request b asks for seed + b·batchSize (the server gives prompt i seed + i); default 0. */
  seed?: number;
  limit?: number;
  fields?: FieldMapping;
  apiKey?: string;
  /** Retries of a failed request (network error, 429, 5xx); default 2. */
  retries?: number;
  grader?: GraderOptions;
  /** Progress callback after each request. */
  onProgress?: (stats: DistillStats) => void;
}

export interface DistillStats {
  numProblems: number;
  numProblemsDone: number;
  numSamples: number;
  numCorrect: number;
  numKept: number;
  /** Samples that hit max_tokens (finish_reason "length"); never kept. */
  numTruncated: number;
  numProblemsSolved: number;
  seconds: number;
}

/**
 * Samples `n` solutions per problem from a teacher endpoint, grades them with the verifier and writes
 * the ones it accepts (correct and finished) as SFT data. The output is written to `out.partial` and
 * renamed when complete.
 */
export async function runDistill(opts: DistillOptions): Promise<DistillStats> {
  const n = opts.n ?? 4;
  const batchSize = opts.batchSize ?? 8;
  const concurrency = opts.concurrency ?? 2;
  const template = opts.promptTemplate ?? 'qwen25-math-cot';
  checkPromptTemplate(template);
  for (const [name, v] of [
    ['n', n],
    ['batchSize', batchSize],
    ['concurrency', concurrency],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`distill: ${name} must be a positive integer, got ${v}`);
  const url = completionsUrl(opts.teacher);
  const { problems } = await loadProblemsReport(opts.data, { fields: opts.fields, limit: opts.limit });
  const started = Date.now();
  const stats: DistillStats = {
    numProblems: problems.length,
    numProblemsDone: 0,
    numSamples: 0,
    numCorrect: 0,
    numKept: 0,
    numTruncated: 0,
    numProblemsSolved: 0,
    seconds: 0,
  };
  await mkdir(dirname(opts.out), { recursive: true });
  const partial = `${opts.out}.partial`;
  const stream = createWriteStream(partial);
  const grader = await Grader.create({ extract: 'boxed', ...opts.grader });
  try {
    const batches: Problem[][] = [];
    for (let i = 0; i < problems.length; i += batchSize) batches.push(problems.slice(i, i + batchSize));
    let next = 0;
    // Batches finish out of order with concurrency > 1; lines are written in batch order so that the
    // output is the same for the same seed.
    const done = new Map<number, string>();
    let numWritten = 0;
    const flush = async () => {
      while (done.has(numWritten)) {
        const text = done.get(numWritten) as string;
        done.delete(numWritten++);
        if (text.length > 0 && !stream.write(text)) await once(stream, 'drain');
      }
    };
    const worker = async () => {
      for (let b = next++; b < batches.length; b = next++) {
        const batch = batches[b];
        const prompts = batch.map((p) => renderPrompt(template, p.problem, opts.tokenizer));
        const res = await postCompletions(
          url,
          {
            model: opts.model,
            prompt: prompts,
            n,
            temperature: opts.temperature ?? 0.7,
            top_p: opts.topP ?? 1,
            max_tokens: opts.maxTokens ?? 2048,
            seed: (opts.seed ?? 0) + b * batchSize,
            ...(opts.stop?.length ? { stop: opts.stop } : {}),
          },
          { apiKey: opts.apiKey, retries: opts.retries },
        );
        const items = res.choices.map((c) => ({
          gold: batch[Math.floor(c.index / n)].answer,
          response: c.text,
          finished: c.finish_reason !== 'length',
        }));
        const graded = await grader.grade(items);
        const lines: string[] = [];
        for (let i = 0; i < batch.length; i++) {
          let numKeptHere = 0;
          for (let j = 0; j < n; j++) {
            const k = i * n + j;
            stats.numSamples++;
            if (!items[k].finished) stats.numTruncated++;
            if (!graded[k].correct) continue;
            stats.numCorrect++;
            if (!items[k].finished) continue;
            if (opts.maxPerProblem !== undefined && numKeptHere >= opts.maxPerProblem) continue;
            numKeptHere++;
            const record: SftRecord = {
              prompt: prompts[i],
              response: items[k].response,
              problem_id: batch[i].id,
              problem: batch[i].problem,
            };
            lines.push(`${JSON.stringify(record)}\n`);
          }
          if (numKeptHere > 0) stats.numProblemsSolved++;
          stats.numKept += numKeptHere;
        }
        stats.numProblemsDone += batch.length;
        done.set(b, lines.join(''));
        await flush();
        stats.seconds = (Date.now() - started) / 1000;
        opts.onProgress?.({ ...stats });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  } finally {
    await grader.close();
    stream.end();
    await once(stream, 'close');
  }
  await rename(partial, opts.out);
  stats.seconds = (Date.now() - started) / 1000;
  return stats;
}
