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

export interface JobResult {
  /** Generated ids of the job's samples, prompt-major (prompt i sample j at i·n + j). */
  ids: Int32Array;
  offsets: Int32Array;
  logprobs: Float32Array;
  finish: string[];
}

interface Job {
  prompts: number[][];
  seeds: number[];
  args: SamplingArgs;
  key: string;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Runs generate jobs on the engine one batch at a time, merging the jobs that wait with the same
 * sampling arguments into one engine call. Merging does not change any sample: each prompt carries its
 * own seed, and the engine's sample j of prompt i depends only on that seed, j and the weights.
 */
export class GenerateBatcher {
  private readonly queue: Job[] = [];
  private isBusy = false;
  /** Engine calls made (tests check that concurrent jobs were merged). */
  numEngineCalls = 0;

  constructor(
    private readonly engine: GenerateBackend,
    private readonly maxBatchPrompts = 256,
  ) {}

  submit(prompts: number[][], seeds: number[], args: SamplingArgs): Promise<JobResult> {
    const key = JSON.stringify([
      args.n,
      args.temperature,
      args.topP,
      args.maxNewTokens,
      [...args.stopIds].sort(),
    ]);
    return new Promise((resolve, reject) => {
      this.queue.push({ prompts, seeds, args, key, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.isBusy || this.queue.length === 0) return;
    this.isBusy = true;
    const first = this.queue.shift() as Job;
    const jobs = [first];
    let numPrompts = first.prompts.length;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i];
      if (job.key === first.key && numPrompts + job.prompts.length <= this.maxBatchPrompts) {
        jobs.push(job);
        numPrompts += job.prompts.length;
        this.queue.splice(i, 1);
      } else i++;
    }
    this.run(jobs).finally(() => {
      this.isBusy = false;
      this.pump();
    });
  }

  private async run(jobs: Job[]): Promise<void> {
    const prompts = jobs.flatMap((j) => j.prompts);
    const offsets = new Int32Array(prompts.length + 1);
    for (let i = 0; i < prompts.length; i++) offsets[i + 1] = offsets[i] + prompts[i].length;
    const ids = new Int32Array(offsets[prompts.length]);
    for (let i = 0; i < prompts.length; i++) ids.set(prompts[i], offsets[i]);
    const { n } = jobs[0].args;
    let out: Awaited<ReturnType<GenerateBackend['generate']>>;
    try {
      this.numEngineCalls++;
      out = await this.engine.generate(
        { ids, offsets },
        { ...jobs[0].args, seeds: jobs.flatMap((j) => j.seeds) },
      );
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    let firstSample = 0;
    for (const j of jobs) {
      const numSamples = j.prompts.length * n;
      const start = out.offsets[firstSample];
      const end = out.offsets[firstSample + numSamples];
      const jobOffsets = new Int32Array(numSamples + 1);
      for (let k = 0; k <= numSamples; k++) jobOffsets[k] = out.offsets[firstSample + k] - start;
      j.resolve({
        ids: out.ids.slice(start, end),
        offsets: jobOffsets,
        logprobs: out.logprobs.slice(start, end),
        finish: out.finish.slice(firstSample, firstSample + numSamples),
      });
      firstSample += numSamples;
    }
  }
}
