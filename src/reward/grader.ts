// Grader: grades batches on a worker-thread pool (piscina) so a pathological answer can never stall
// the training loop. Every dispatched task has a time budget; when it runs out piscina terminates
// that worker, a fresh one replaces it, and the items of the task are retried one by one so only
// the stuck item answers reason 'timeout'.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { ExtractMode } from './extract.ts';
import type { Graded, GradeItem, GradeSettings } from './grade-item.ts';
import { isFormatted, type RewardRules, resolveRules, rewardOf } from './rules.ts';

export const CUSTOM_REWARD_ERROR = 'custom reward';

export interface GraderOptions {
  /** Extraction mode for responses: 'boxed' (default) or 'any'. */
  extract?: ExtractMode;
  /** Overrides of the reward table; defaults are ORIGINAL_REWARD_RULES. */
  rules?: Partial<RewardRules>;
  /** Worker threads; default: available cores - 1, at least 1, at most 8. */
  threads?: number;
  /** Time budget of one grading call in ms (Qwen's harness used 3 s); default 3000. */
  timeoutMs?: number;
  /** Path of a TS/JS module whose default export (item & {verdict}) => number replaces the table's reward. */
  customReward?: string;
}

export const TIMEOUT_REASON = 'timeout';
const MAX_CHUNK = 16;
const WORKER_URL = new URL('./grade-worker.mjs', import.meta.url).href;

interface Task {
  items: GradeItem[];
  settings: GradeSettings;
  customReward?: string;
}

export class Grader {
  private needsWarm = false;
  private closed = false;

  private constructor(
    private readonly pool: Piscina,
    private readonly settings: GradeSettings,
    private readonly threads: number,
    private readonly timeoutMs: number,
    private readonly customReward: string | undefined,
  ) {}

  static async create(opts: GraderOptions = {}): Promise<Grader> {
    const threads = Math.max(1, Math.min(8, Math.floor(opts.threads ?? availableParallelism() - 1)));
    const timeoutMs = opts.timeoutMs ?? 3000;
    if (!(timeoutMs > 0)) throw new Error(`Grader: timeoutMs must be > 0, got ${timeoutMs}`);
    if (opts.customReward !== undefined && !existsSync(resolve(opts.customReward)))
      throw new Error(`${CUSTOM_REWARD_ERROR} ${opts.customReward}: file not found`);
    const settings: GradeSettings = { extract: opts.extract ?? 'boxed', rules: resolveRules(opts.rules) };
    const pool = new Piscina({
      filename: WORKER_URL,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
    });
    const grader = new Grader(
      pool,
      settings,
      threads,
      timeoutMs,
      opts.customReward ? resolve(opts.customReward) : undefined,
    );
    try {
      await grader.warm();
    } catch (err) {
      await pool.destroy();
      // An error thrown in a worker thread may arrive as a plain object (it prints "[object Object]").
      if (err instanceof Error) throw err;
      const message = (err as { message?: unknown } | null)?.message;
      throw new Error(
        `Grader: a worker failed to start: ${typeof message === 'string' ? message : JSON.stringify(err)}`,
      );
    }
    return grader;
  }

  /** Starts every worker and loads the modules (and the custom reward) outside any time budget. */
  private async warm(): Promise<void> {
    const task: Task = { items: [], settings: this.settings, customReward: this.customReward };
    await Promise.all(Array.from({ length: this.threads }, () => this.pool.run(task)));
    this.needsWarm = false;
  }

  async grade(items: GradeItem[]): Promise<Graded[]> {
    if (this.closed) throw new Error('Grader: grade() after close()');
    const out = new Array<Graded>(items.length);
    const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.ceil(items.length / (this.threads * 4))));
    const queue: number[][] = [];
    for (let i = 0; i < items.length; i += chunk)
      queue.push(Array.from({ length: Math.min(chunk, items.length - i) }, (_, j) => i + j));
    const worker = async () => {
      for (let idx = queue.shift(); idx !== undefined; idx = queue.shift()) {
        if (this.needsWarm) await this.warm();
        const result = await this.runWithBudget(idx.map((i) => items[i]));
        if (Array.isArray(result)) {
          idx.forEach((i, j) => {
            out[i] = result[j];
          });
        } else if (idx.length > 1) {
          // Retry alone so only the stuck (or crashing) item fails.
          for (const i of idx) queue.unshift([i]);
        } else {
          out[idx[0]] = failed(items[idx[0]], this.settings.rules, result.reason);
        }
      }
    };
    await Promise.all(Array.from({ length: this.threads }, worker));
    return out;
  }

  /**
   * Runs one task. On time-out its worker is terminated; on a crash (the worker died, say out of
   * memory) the pool replaces it. Either way the caller gets the reason instead of an exception.
   */
  private async runWithBudget(items: GradeItem[]): Promise<Graded[] | { reason: string }> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    try {
      return (await this.pool.run(
        { items, settings: this.settings, customReward: this.customReward } satisfies Task,
        { signal: ac.signal },
      )) as Graded[];
    } catch (err) {
      this.needsWarm = true;
      return {
        reason: ac.signal.aborted
          ? TIMEOUT_REASON
          : `error: ${err instanceof Error ? err.message : String(err)}`,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}

/** A timed-out (or crashed) item counts as a wrong answer, as in the original harness, formatted if its form says so. */
function failed(item: GradeItem, rules: RewardRules, reason: string): Graded {
  const finished = item.finished ?? true;
  const formatted = isFormatted(String(item.response ?? ''), finished, rules.format);
  // extracted is unknown; under 'none' the item still counts as answered (wrong), not as no-answer.
  const reward = rewardOf({ correct: false, extracted: '', reason }, formatted, finished, rules);
  return { correct: false, extracted: null, reason, formatted, reward };
}
