/**
 * The demo's before/after evaluation: one split, one decoding mode (greedy, or sampled at T = 1),
 * through the same engine, tokenizer, prompt template and grader as training. Besides accuracy it
 * measures what the Zero story is about: format rate, response length, and the self-check rate (share
 * of responses with a reflection phrase, counted by src/analysis/reflection.ts), and whether checked
 * responses are more often right than unchecked ones, the condition for RL to keep checking.
 */

import { hasReflection } from '../analysis/reflection.ts';
import type { EngineClient } from '../engine/index.ts';
import type { RewardGrader } from '../rl/reward.ts';
import { renderPrompt } from '../tokenizer/prompts.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { TaskRecord } from './tasks.ts';

export type DecodeMode = 'greedy' | 'sampled';

export interface EvalSummary {
  split: string;
  mode: DecodeMode;
  numProblems: number;
  acc: number;
  formatRate: number;
  /** mean generated tokens, the stop token included */
  meanLen: number;
  /** share of responses that hit the length limit */
  clipRate: number;
  selfCheckRate: number;
  /** accuracy of the responses with / without a self-check (NaN when there are none) */
  accWithCheck: number;
  accWithoutCheck: number;
  seconds: number;
}

export interface EvalRow {
  id: string;
  problem: string;
  gold: string;
  response: string;
  extracted: string | null;
  correct: boolean;
  formatted: boolean;
  finished: boolean;
  num_tokens: number;
  self_check: boolean;
}

export interface EvalSettings {
  template: string;
  maxNewTokens: number;
  stopIds: number[];
  seed: number;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export async function evaluateSplit(
  engine: EngineClient,
  tok: TextTokenizer,
  grader: RewardGrader,
  split: string,
  tasks: TaskRecord[],
  mode: DecodeMode,
  settings: EvalSettings,
): Promise<{ summary: EvalSummary; rows: EvalRow[] }> {
  const t0 = performance.now();
  const prompts = tok.encodeBatch(tasks.map((t) => renderPrompt(settings.template, t.problem, tok)));
  const gen = await engine.generate(prompts, {
    n: 1,
    temperature: mode === 'greedy' ? 0 : 1,
    topP: 1,
    maxNewTokens: settings.maxNewTokens,
    stopIds: settings.stopIds,
    seed: settings.seed,
  });
  const stopSet = new Set(settings.stopIds);
  const responses = tasks.map((_, i) => {
    const start = gen.offsets[i]!;
    let end = gen.offsets[i + 1]!;
    const finished = gen.finish[i] === 'stop';
    if (finished && end > start && stopSet.has(gen.ids[end - 1]!)) end--;
    return {
      text: tok.decode(Array.from(gen.ids.slice(start, end))),
      finished,
      numTokens: gen.offsets[i + 1]! - start,
    };
  });
  const grades = await grader.grade(
    tasks.map((t, i) => ({ gold: t.answer, response: responses[i]!.text, finished: responses[i]!.finished })),
  );
  const rows: EvalRow[] = tasks.map((t, i) => ({
    id: t.id,
    problem: t.problem,
    gold: t.answer,
    response: responses[i]!.text,
    extracted: grades[i]!.extracted,
    correct: grades[i]!.correct,
    formatted: grades[i]!.formatted,
    finished: responses[i]!.finished,
    num_tokens: responses[i]!.numTokens,
    self_check: hasReflection(responses[i]!.text),
  }));
  const bit = (b: boolean) => (b ? 1 : 0);
  const summary: EvalSummary = {
    split,
    mode,
    numProblems: rows.length,
    acc: mean(rows.map((r) => bit(r.correct))),
    formatRate: mean(rows.map((r) => bit(r.formatted))),
    meanLen: mean(rows.map((r) => r.num_tokens)),
    clipRate: mean(rows.map((r) => bit(!r.finished))),
    selfCheckRate: mean(rows.map((r) => bit(r.self_check))),
    accWithCheck: mean(rows.filter((r) => r.self_check).map((r) => bit(r.correct))),
    accWithoutCheck: mean(rows.filter((r) => !r.self_check).map((r) => bit(r.correct))),
    seconds: (performance.now() - t0) / 1000,
  };
  return { summary, rows };
}
