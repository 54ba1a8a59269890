/**
 * `simplerl analyze`: how responses behave and how that changes over training.
 *
 * - analyzeRun(runs/<name>): every `rollouts/step-NNNNNN.jsonl` summarised per step (length
 *   distribution, truncation, reflection, code blocks, boxed answers, repetition, accuracy, reward),
 *   a trend per metric (first step, last step, change, least-squares slope per step), a length
 *   histogram per step on shared bins, and the same statistics per eval label that has a
 *   `eval/<label>/responses.jsonl` (the v1 per-checkpoint analysis).
 * - analyzeResponses(FILE): the statistics of one responses file (eval output or any JSONL with a
 *   `response` field), per `benchmark` when lines carry one.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROLLOUTS_FILE_NAME } from '../run/run-dir.ts';
import { forEachJsonObject, type JsonlSkips, noteBadLine } from './read-jsonl.ts';
import { DEFAULT_REFLECTION_PHRASES } from './reflection.ts';
import {
  type ResponseItem,
  type ResponseStats,
  type SummarizeOptions,
  summarizeResponses,
} from './response-stats.ts';

export const ANALYZE_ERROR = 'analyze:';

export interface StepStats extends ResponseStats {
  step: number;
  /** Mean of `reward` over the step's rollouts that carry one. */
  meanReward: number | null;
}

export interface Trend {
  first: number | null;
  last: number | null;
  /** last - first. */
  change: number | null;
  /** Least-squares slope of the metric against the step number (per step). */
  slopePerStep: number | null;
  min: number | null;
  max: number | null;
}

export interface LengthHistogram {
  /** Bin b holds token counts in [edges[b], edges[b+1]); the edges cover the largest count. */
  edges: number[];
  /** step → counts per bin. */
  counts: Record<string, number[]>;
}

export interface RunAnalysis extends JsonlSkips {
  run: string;
  phrases: string[];
  numSteps: number;
  numResponses: number;
  steps: StepStats[];
  trends: Record<string, Trend>;
  lengthHistogram: LengthHistogram | null;
  /** Per eval label with a responses.jsonl. */
  evals: Record<string, ResponseStats>;
}

export interface ResponsesAnalysis extends JsonlSkips {
  file: string;
  phrases: string[];
  overall: ResponseStats;
  /** Per `benchmark` value (only when lines carry one). */
  groups: Record<string, ResponseStats>;
}

/** The metrics whose change over steps is reported. */
export const TREND_METRICS = [
  'accuracy',
  'meanReward',
  'meanTokens',
  'p90Tokens',
  'truncationRate',
  'reflectionRate',
  'meanReflections',
  'codeBlockRate',
  'boxedRate',
  'repetitionRate',
  'meanTokensCorrect',
  'meanTokensWrong',
] as const;

function toItem(row: Record<string, unknown>, where: string, skips: JsonlSkips): ResponseItem | null {
  if (typeof row.response !== 'string') {
    noteBadLine(skips, where, '"response" is not a string');
    return null;
  }
  const item: ResponseItem = { response: row.response };
  if (typeof row.num_tokens === 'number' && Number.isFinite(row.num_tokens)) item.numTokens = row.num_tokens;
  if (typeof row.finished === 'boolean') item.finished = row.finished;
  if (typeof row.correct === 'boolean') item.correct = row.correct;
  return item;
}

/** Least-squares slope of y against x; null with fewer than two distinct x. */
export function slope(xs: number[], ys: number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

export function trendOf(steps: readonly StepStats[], metric: string): Trend {
  const points = steps
    .map((s) => [s.step, (s as unknown as Record<string, number | null>)[metric]] as const)
    .filter((p): p is readonly [number, number] => typeof p[1] === 'number');
  if (points.length === 0)
    return { first: null, last: null, change: null, slopePerStep: null, min: null, max: null };
  const ys = points.map((p) => p[1]);
  const first = ys[0];
  const last = ys[ys.length - 1];
  return {
    first,
    last,
    change: last - first,
    slopePerStep: slope(
      points.map((p) => p[0]),
      ys,
    ),
    min: Math.min(...ys),
    max: Math.max(...ys),
  };
}

/** Bin edges 0, w, 2w, … covering maxTokens with about `numBins` bins of a round width (1, 2, 5 × 10^k). */
export function histogramEdges(maxTokens: number, numBins = 10): number[] {
  const raw = Math.max(1, maxTokens / numBins);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 5, 10].map((m) => m * pow).find((w) => w >= raw) ?? 10 * pow;
  const edges = [0];
  while (edges[edges.length - 1] <= maxTokens) edges.push(edges[edges.length - 1] + width);
  return edges;
}

export function histogram(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  const width = edges[1] - edges[0];
  for (const v of values) counts[Math.min(counts.length - 1, Math.max(0, Math.floor(v / width)))]++;
  return counts;
}

export async function analyzeRun(runDir: string, opts: SummarizeOptions = {}): Promise<RunAnalysis> {
  const rolloutsDir = join(runDir, 'rollouts');
  if (!existsSync(runDir)) throw new Error(`${ANALYZE_ERROR} ${runDir} does not exist`);
  const files = existsSync(rolloutsDir)
    ? (await readdir(rolloutsDir))
        .map((f) => [f, ROLLOUTS_FILE_NAME.exec(f)] as const)
        .filter((x): x is readonly [string, RegExpExecArray] => x[1] !== null)
        .map(([f, m]) => ({ file: join(rolloutsDir, f), step: Number(m[1]) }))
        .sort((a, b) => a.step - b.step)
    : [];
  const evalDir = join(runDir, 'eval');
  const evalLabels = existsSync(evalDir)
    ? (await readdir(evalDir)).filter((l) => existsSync(join(evalDir, l, 'responses.jsonl'))).sort()
    : [];
  if (files.length === 0 && evalLabels.length === 0) {
    throw new Error(
      `${ANALYZE_ERROR} ${runDir} has no rollouts/step-NNNNNN.jsonl and no eval/<label>/responses.jsonl (is it a run folder?)`,
    );
  }
  const skips: JsonlSkips = { numBadLines: 0, badExamples: [] };
  const steps: StepStats[] = [];
  const tokensByStep = new Map<number, number[]>();
  let numResponses = 0;
  for (const { file, step } of files) {
    const items: ResponseItem[] = [];
    const rewards: number[] = [];
    await forEachJsonObject(file, skips, (row, where) => {
      const item = toItem(row, where, skips);
      if (!item) return;
      items.push(item);
      if (typeof row.reward === 'number' && Number.isFinite(row.reward)) rewards.push(row.reward);
    });
    numResponses += items.length;
    const stats = summarizeResponses(items, opts);
    steps.push({
      step,
      ...stats,
      meanReward: rewards.length > 0 ? rewards.reduce((a, b) => a + b, 0) / rewards.length : null,
    });
    tokensByStep.set(
      step,
      items.map((i) => i.numTokens).filter((t): t is number => t !== undefined),
    );
  }
  const trends: Record<string, Trend> = {};
  for (const m of TREND_METRICS) trends[m] = trendOf(steps, m);
  let lengthHistogram: LengthHistogram | null = null;
  const maxTokens = Math.max(-1, ...steps.map((s) => s.maxTokens ?? -1));
  if (maxTokens >= 0) {
    const edges = histogramEdges(maxTokens);
    const counts: Record<string, number[]> = {};
    for (const [step, tokens] of tokensByStep) counts[String(step)] = histogram(tokens, edges);
    lengthHistogram = { edges, counts };
  }
  const evals: Record<string, ResponseStats> = {};
  for (const label of evalLabels) {
    const items: ResponseItem[] = [];
    await forEachJsonObject(join(evalDir, label, 'responses.jsonl'), skips, (row, where) => {
      const item = toItem(row, where, skips);
      if (item) items.push(item);
    });
    evals[label] = summarizeResponses(items, opts);
  }
  return {
    run: runDir,
    phrases: [...(opts.phrases ?? DEFAULT_REFLECTION_PHRASES)],
    numSteps: steps.length,
    numResponses,
    steps,
    trends,
    lengthHistogram,
    evals,
    ...skips,
  };
}

export async function analyzeResponses(
  file: string,
  opts: SummarizeOptions = {},
): Promise<ResponsesAnalysis> {
  if (!existsSync(file)) throw new Error(`${ANALYZE_ERROR} ${file} does not exist`);
  const skips: JsonlSkips = { numBadLines: 0, badExamples: [] };
  const all: ResponseItem[] = [];
  const byGroup = new Map<string, ResponseItem[]>();
  await forEachJsonObject(file, skips, (row, where) => {
    const item = toItem(row, where, skips);
    if (!item) return;
    all.push(item);
    if (typeof row.benchmark === 'string') {
      const list = byGroup.get(row.benchmark) ?? [];
      list.push(item);
      byGroup.set(row.benchmark, list);
    }
  });
  if (all.length === 0) throw new Error(`${ANALYZE_ERROR} ${file} has no line with a "response" string`);
  const groups: Record<string, ResponseStats> = {};
  for (const [name, items] of byGroup) groups[name] = summarizeResponses(items, opts);
  return {
    file,
    phrases: [...(opts.phrases ?? DEFAULT_REFLECTION_PHRASES)],
    overall: summarizeResponses(all, opts),
    groups,
    ...skips,
  };
}
