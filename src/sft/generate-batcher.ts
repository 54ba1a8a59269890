import type { EngineClient } from '../engine/index.ts';

/** What the batcher needs from the engine client. */
export type GenerateBackend = Pick<EngineClient, 'generate'>;

export interface SamplingArgs {
  n: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  stopIds: number[];
}

/** The samples of one prompt: `n` generations, each `ids.subarray(offsets[j], offsets[j + 1])`. */
export interface PromptResult {
  ids: Int32Array;
  offsets: Int32Array;
  logprobs: Float32Array;
  finish: string[];
}

export interface JobResult extends PromptResult {
  /** Generated ids of the job's samples, prompt-major (prompt i sample j at i·n + j). */
  ids: Int32Array;
}

/** Error prefix of a job the batcher refuses because too much work waits already (HTTP 429). */
export const QUEUE_FULL = 'server busy';
/** Message of a job whose client went away (its queued prompts are dropped). */
export const JOB_CANCELLED = 'request cancelled: the client disconnected';

export class QueueFullError extends Error {}
export class JobCancelledError extends Error {}

export interface SubmitOptions {
  /** Aborting drops the job's queued prompts; a running batch finishes and its results are discarded. */
  signal?: AbortSignal;
  /** Called as each prompt's samples are ready (streaming), in no particular prompt order. */
  onPrompt?: (index: number, result: PromptResult) => void;
}

export interface BatcherLimits {
  /** Most samples (prompts × n) per engine call; a single prompt with a larger n still runs alone. */
  maxBatchRows?: number;
  /** Most work (Σ prompts × n × max_tokens) admitted and not yet finished; beyond it submit throws. */
  maxQueuedTokens?: number;
}

interface Job {
  prompts: number[][];
  seeds: number[];
  args: SamplingArgs;
  key: string;
  /** Index of the next prompt not yet handed to the engine. */
  next: number;
  results: (PromptResult | undefined)[];
  numDone: number;
  work: number;
  opts: SubmitOptions;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

/** One prompt of one job inside an engine call. */
interface Slot {
  job: Job;
  index: number;
}

/** Work units of a job: every sample may run to max_tokens. */
export function jobWork(numPrompts: number, args: Pick<SamplingArgs, 'n' | 'maxNewTokens'>): number {
  return numPrompts * args.n * args.maxNewTokens;
}

/**
 * Runs generate jobs on the engine one bounded batch at a time. Batches are formed round-robin across
 * the waiting jobs (one prompt from each in turn, up to `maxBatchRows` samples), so a job of a million
 * prompts shares every call with the small jobs that arrive after it instead of starving them. Jobs
 * with the same sampling arguments share engine calls; merging changes no sample, since each prompt
 * carries its own seed and the engine's sample j of prompt i depends only on that seed, j and the weights.
 */
export class GenerateBatcher {
  private jobs: Job[] = [];
  /** Rotates which job starts (and sets the sampling arguments of) the next batch. */
  private turn = 0;
  private isBusy = false;
  private queuedTokens = 0;
  private readonly maxBatchRows: number;
  private readonly maxQueuedTokens: number;
  /** Engine calls made (tests check merging, fairness and cancellation through it). */
  numEngineCalls = 0;
  /** Prompts dropped from the queue because their job was cancelled. */
  numCancelledPrompts = 0;

  constructor(
    private readonly engine: GenerateBackend,
    limits: BatcherLimits = {},
  ) {
    this.maxBatchRows = limits.maxBatchRows ?? 256;
    this.maxQueuedTokens = limits.maxQueuedTokens ?? Number.POSITIVE_INFINITY;
  }

  /** Work admitted and not yet finished (Σ prompts × n × max_tokens). */
  get numQueuedTokens(): number {
    return this.queuedTokens;
  }

  /** Throws QueueFullError when `work` more would exceed the queued-work limit. */
  checkRoom(work: number): void {
    if (this.queuedTokens + work > this.maxQueuedTokens)
      throw new QueueFullError(
        `${QUEUE_FULL}: ${this.queuedTokens} of ${this.maxQueuedTokens} queued tokens (prompts × n × max_tokens) are taken and this request needs ${work}; retry later (--max-queued-tokens raises the limit)`,
      );
  }

  submit(
    prompts: number[][],
    seeds: number[],
    args: SamplingArgs,
    opts: SubmitOptions = {},
  ): Promise<JobResult> {
    const work = jobWork(prompts.length, args);
    try {
      this.checkRoom(work);
    } catch (err) {
      return Promise.reject(err);
    }
    if (opts.signal?.aborted) return Promise.reject(new JobCancelledError(JOB_CANCELLED));
    const key = JSON.stringify([
      args.n,
      args.temperature,
      args.topP,
      args.maxNewTokens,
      [...args.stopIds].sort(),
    ]);
    return new Promise((resolve, reject) => {
      const job: Job = {
        prompts,
        seeds,
        args,
        key,
        next: 0,
        results: [],
        numDone: 0,
        work,
        opts,
        resolve,
        reject,
      };
      this.queuedTokens += work;
      this.jobs.push(job);
      opts.signal?.addEventListener('abort', () => this.cancel(job), { once: true });
      this.pump();
    });
  }

  private cancel(job: Job): void {
    if (!this.jobs.includes(job)) return;
    this.numCancelledPrompts += job.prompts.length - job.next;
    this.finish(job);
    job.reject(new JobCancelledError(JOB_CANCELLED));
  }

  /** Removes a job (done, failed or cancelled) and returns its work to the queue budget. */
  private finish(job: Job): void {
    this.jobs = this.jobs.filter((j) => j !== job);
    this.queuedTokens -= job.work;
  }

  private pump(): void {
    if (this.isBusy) return;
    const slots = this.formBatch();
    if (slots.length === 0) return;
    this.isBusy = true;
    this.run(slots).finally(() => {
      this.isBusy = false;
      this.pump();
    });
  }

  /** Takes one prompt from each job with the leading job's arguments in turn until the batch is full. */
  private formBatch(): Slot[] {
    const open = this.jobs.filter((j) => j.next < j.prompts.length);
    if (open.length === 0) return [];
    const lead = open[this.turn++ % open.length];
    const group = [lead, ...open.filter((j) => j !== lead && j.key === lead.key)];
    const slots: Slot[] = [];
    let numRows = 0;
    for (let isTaking = true; isTaking; ) {
      isTaking = false;
      for (const job of group) {
        if (job.next >= job.prompts.length) continue;
        if (slots.length > 0 && numRows + job.args.n > this.maxBatchRows) return slots;
        slots.push({ job, index: job.next++ });
        numRows += job.args.n;
        isTaking = true;
      }
    }
    return slots;
  }

  private async run(slots: Slot[]): Promise<void> {
    const prompts = slots.map((s) => s.job.prompts[s.index]);
    const offsets = new Int32Array(prompts.length + 1);
    for (let i = 0; i < prompts.length; i++) offsets[i + 1] = offsets[i] + prompts[i].length;
    const ids = new Int32Array(offsets[prompts.length]);
    for (let i = 0; i < prompts.length; i++) ids.set(prompts[i], offsets[i]);
    const seeds = slots.map((s) => s.job.seeds[s.index]);
    let out: Awaited<ReturnType<GenerateBackend['generate']>>;
    try {
      this.numEngineCalls++;
      out = await this.engine.generate({ ids, offsets }, { ...slots[0].job.args, seeds });
    } catch (err) {
      for (const job of new Set(slots.map((s) => s.job)))
        if (this.jobs.includes(job)) {
          this.finish(job);
          job.reject(err);
        }
      return;
    }
    for (const [i, slot] of slots.entries())
      this.deliver(slot, sliceSamples(out, i * slot.job.args.n, slot.job.args.n));
  }

  private deliver({ job, index }: Slot, result: PromptResult): void {
    if (!this.jobs.includes(job)) return; // cancelled while its batch ran: the results are discarded
    job.results[index] = result;
    job.numDone++;
    job.opts.onPrompt?.(index, result);
    if (job.numDone < job.prompts.length) return;
    this.finish(job);
    job.resolve(concatResults(job.results as PromptResult[]));
  }
}

/** Samples [first, first + count) of an engine answer, with offsets rebased to 0. */
function sliceSamples(out: PromptResult, first: number, count: number): PromptResult {
  const start = out.offsets[first];
  const end = out.offsets[first + count];
  const offsets = new Int32Array(count + 1);
  for (let k = 0; k <= count; k++) offsets[k] = out.offsets[first + k] - start;
  return {
    ids: out.ids.slice(start, end),
    offsets,
    logprobs: out.logprobs.slice(start, end),
    finish: out.finish.slice(first, first + count),
  };
}

function concatResults(parts: PromptResult[]): JobResult {
  const numSamples = parts.reduce((a, p) => a + p.finish.length, 0);
  const numTokens = parts.reduce((a, p) => a + p.ids.length, 0);
  const ids = new Int32Array(numTokens);
  const logprobs = new Float32Array(numTokens);
  const offsets = new Int32Array(numSamples + 1);
  let k = 0;
  for (const p of parts) {
    ids.set(p.ids, offsets[k]);
    logprobs.set(p.logprobs, offsets[k]);
    for (let j = 0; j < p.finish.length; j++) offsets[k + j + 1] = offsets[k] + p.offsets[j + 1];
    k += p.finish.length;
  }
  return { ids, offsets, logprobs, finish: parts.flatMap((p) => p.finish) };
}
