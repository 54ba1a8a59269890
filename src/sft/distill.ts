import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type FieldMapping, loadProblemsReport, type Problem } from '../data/problems.ts';
import { Grader, type GraderOptions } from '../reward/index.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { checkPromptTemplate, MATH_INSTRUCTION, renderPrompt } from '../tokenizer/prompts.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { type CompletionChoice, type TeacherApi, TeacherClient } from './completions-client.ts';

/** One line of the SFT data written by distill (and read by sft). */
export interface SftRecord {
  prompt: string;
  response: string;
  problem_id: string;
  problem?: string;
}

export interface DistillOptions {
  /** Base URL of an OpenAI-compatible server (`http://host:8000`, `.../v1` or the endpoint's URL). */
  teacher: string;
  /**
   * `completions` (default): prompts rendered here go to /v1/completions. `chat`: each problem is one
   * user message (`promptTemplate` applied, default `{input}\n` + the math instruction) sent to
   * /v1/chat/completions, rendered by the server with the teacher's own chat template.
   */
  teacherApi?: TeacherApi;
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
  /**
   * Prompt template name or custom string with {input} (default qwen25-math-cot; with a chat teacher,
   * the user message, default `{input}\n` + the math instruction); `chat` needs `tokenizer`.
   */
  promptTemplate?: string;
  tokenizer?: TextTokenizer;
  /**
   * Template of the `prompt` written to the SFT data, when the student is prompted differently from
   * the teacher (e.g. a QwQ teacher in its chat format, a base-model student with qwen25-math-cot).
   * Default: the teacher's prompt. `chat` uses `studentTokenizer`.
   */
  sftPromptTemplate?: string;
  studentTokenizer?: TextTokenizer;
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
  /** Progress callback after each batch written. */
  onProgress?: (stats: DistillStats) => void;
  /** Continue an interrupted run from `out.partial` (its settings must match). */
  resume?: boolean;
  /** Stops before the next request when aborted; the partial output can be resumed. */
  signal?: AbortSignal;
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

/** The user message of a chat teacher by default: the problem and the math instruction. */
export const CHAT_USER_TEMPLATE = `{input}\n${MATH_INSTRUCTION}`;

/** Error prefix of a resume whose settings differ from the interrupted run. */
export const DISTILL_RESUME_MISMATCH = 'cannot resume distill';

interface BatchResult {
  text: string;
  numSamples: number;
  numCorrect: number;
  numKept: number;
  numTruncated: number;
  numProblemsSolved: number;
  numProblems: number;
}

interface Progress {
  settings: Record<string, unknown>;
  numBatchesDone: number;
  bytes: number;
  stats: DistillStats;
}

/**
 * Samples `n` solutions per problem from a teacher endpoint, grades them with the verifier and writes
 * the ones it accepts (correct and finished) as SFT data, in problem order whatever order the
 * concurrent requests finish in. Lines go to `out.partial`, with `out.partial.json` recording how many
 * batches are complete; `resume: true` continues an interrupted run from there (same settings
 * required), and the file is renamed to `out` when complete.
 */
export async function runDistill(opts: DistillOptions): Promise<DistillStats> {
  const n = opts.n ?? 4;
  const batchSize = opts.batchSize ?? 8;
  const concurrency = opts.concurrency ?? 2;
  const teacherApi = opts.teacherApi ?? 'completions';
  const template = opts.promptTemplate ?? (teacherApi === 'chat' ? CHAT_USER_TEMPLATE : 'qwen25-math-cot');
  checkPromptTemplate(template);
  if (teacherApi === 'chat' && template === 'chat')
    throw new Error(
      'distill: a chat teacher renders its own chat template; give --prompt-template the user message (a name or a string with {input})',
    );
  if (opts.sftPromptTemplate !== undefined) checkPromptTemplate(opts.sftPromptTemplate);
  for (const [name, v] of [
    ['n', n],
    ['batchSize', batchSize],
    ['concurrency', concurrency],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`distill: ${name} must be a positive integer, got ${v}`);
  const teacher = new TeacherClient(opts.teacher, { apiKey: opts.apiKey, retries: opts.retries });
  const { problems } = await loadProblemsReport(opts.data, { fields: opts.fields, limit: opts.limit });
  const sampling = {
    temperature: opts.temperature ?? 0.7,
    top_p: opts.topP ?? 1,
    max_tokens: opts.maxTokens ?? 2048,
    ...(opts.stop?.length ? { stop: opts.stop } : {}),
  };
  const seed = opts.seed ?? 0;
  const settings: Record<string, unknown> = {
    data: resolve(opts.data),
    numProblems: problems.length,
    model: opts.model,
    teacherApi,
    n,
    batchSize,
    template,
    sftTemplate: opts.sftPromptTemplate ?? null,
    seed,
    maxPerProblem: opts.maxPerProblem ?? null,
    ...sampling,
  };
  const started = Date.now();
  let stats: DistillStats = {
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
  const progressPath = `${partial}.json`;
  let numBatchesDone = 0;
  let bytes = 0;
  if (opts.resume && existsSync(progressPath) && existsSync(partial)) {
    const saved = JSON.parse(await readFile(progressPath, 'utf8')) as Progress;
    for (const key of new Set([...Object.keys(settings), ...Object.keys(saved.settings)]))
      if (JSON.stringify(settings[key]) !== JSON.stringify(saved.settings[key]))
        throw new Error(
          `${DISTILL_RESUME_MISMATCH} ${partial}: ${key} was ${JSON.stringify(saved.settings[key])}, now ${JSON.stringify(settings[key])} (rerun without resume to start over)`,
        );
    if ((await stat(partial)).size < saved.bytes)
      throw new Error(
        `${DISTILL_RESUME_MISMATCH} ${partial}: shorter than the ${saved.bytes} bytes recorded in ${progressPath}`,
      );
    await truncate(partial, saved.bytes);
    ({ numBatchesDone, bytes } = saved);
    stats = { ...saved.stats };
  }
  const stream = createWriteStream(partial, { flags: numBatchesDone > 0 ? 'a' : 'w' });
  const grader = await Grader.create({ extract: 'boxed', ...opts.grader });
  const priorSeconds = stats.seconds;
  try {
    const batches: Problem[][] = [];
    for (let i = 0; i < problems.length; i += batchSize) batches.push(problems.slice(i, i + batchSize));
    let next = numBatchesDone;
    // Batches finish out of order with concurrency > 1; they are written in batch order so that the
    // output is the same for the same seed, and so that the progress record is a clean prefix.
    const done = new Map<number, BatchResult>();
    let flushing = Promise.resolve();
    const flushInOrder = async () => {
      while (done.has(numBatchesDone)) {
        const r = done.get(numBatchesDone) as BatchResult;
        done.delete(numBatchesDone);
        if (r.text.length > 0)
          await new Promise<void>((ok, fail) => stream.write(r.text, (err) => (err ? fail(err) : ok())));
        bytes += Buffer.byteLength(r.text);
        numBatchesDone++;
        stats.numProblemsDone += r.numProblems;
        stats.numSamples += r.numSamples;
        stats.numCorrect += r.numCorrect;
        stats.numKept += r.numKept;
        stats.numTruncated += r.numTruncated;
        stats.numProblemsSolved += r.numProblemsSolved;
        stats.seconds = priorSeconds + (Date.now() - started) / 1000;
        const progress: Progress = { settings, numBatchesDone, bytes, stats };
        writeFileAtomic(progressPath, JSON.stringify(progress));
        opts.onProgress?.({ ...stats });
      }
    };
    // The first failure stops the others from taking new batches; all settle before the output closes.
    let failure: { error: unknown } | undefined;
    const work = async () => {
      for (let b = next++; b < batches.length && !failure; b = next++) {
        if (opts.signal?.aborted) throw new Error('distill: aborted (resume to continue)');
        const batch = batches[b];
        const prompts = batch.map((p) => renderPrompt(template, p.problem, opts.tokenizer));
        const request = { model: opts.model, n, seed: seed + b * batchSize, ...sampling };
        const choices: CompletionChoice[] =
          teacherApi === 'chat'
            ? await teacher.chat(prompts, request)
            : await teacher.complete({ ...request, prompt: prompts });
        const items = choices.map((c) => ({
          gold: batch[Math.floor(c.index / n)].answer,
          response: c.text,
          finished: c.finish_reason !== 'length',
        }));
        const graded = await grader.grade(items);
        const r: BatchResult = {
          text: '',
          numSamples: items.length,
          numCorrect: 0,
          numKept: 0,
          numTruncated: 0,
          numProblemsSolved: 0,
          numProblems: batch.length,
        };
        const lines: string[] = [];
        for (let i = 0; i < batch.length; i++) {
          let numKeptHere = 0;
          for (let j = 0; j < n; j++) {
            const k = i * n + j;
            if (!items[k].finished) r.numTruncated++;
            if (!graded[k].correct) continue;
            r.numCorrect++;
            if (!items[k].finished) continue;
            if (opts.maxPerProblem !== undefined && numKeptHere >= opts.maxPerProblem) continue;
            numKeptHere++;
            const record: SftRecord = {
              prompt:
                opts.sftPromptTemplate === undefined
                  ? prompts[i]
                  : renderPrompt(opts.sftPromptTemplate, batch[i].problem, opts.studentTokenizer),
              response: items[k].response,
              problem_id: batch[i].id,
              problem: batch[i].problem,
            };
            lines.push(`${JSON.stringify(record)}\n`);
          }
          if (numKeptHere > 0) r.numProblemsSolved++;
          r.numKept += numKeptHere;
        }
        r.text = lines.join('');
        done.set(b, r);
        flushing = flushing.then(flushInOrder);
        await flushing;
      }
    };
    const worker = async () => {
      try {
        await work();
      } catch (error) {
        failure ??= { error };
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    if (failure) throw failure.error;
  } finally {
    await grader.close();
    stream.end();
    await once(stream, 'close');
  }
  await rename(partial, opts.out);
  await rm(progressPath, { force: true });
  stats.seconds = priorSeconds + (Date.now() - started) / 1000;
  return stats;
}
