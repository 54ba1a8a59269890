/**
 * Writes an eval folder: summary.json (scores, settings, versions), results.md (the original README's
 * table), per_problem.jsonl (one line per problem) and responses.jsonl (one line per sample; the
 * `--responses` layout, so an eval can be re-scored or analysed).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResponseStats } from '../analysis/response-stats.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { markdownTable, pct } from '../util/markdown.ts';

export interface ScoredSample {
  response: string;
  finished: boolean;
  numTokens?: number;
  extracted: string | null;
  correct: boolean;
  reason: string;
}

export interface ProblemResult {
  benchmark: string;
  id: string;
  gold: string;
  samples: ScoredSample[];
  /** maj@n answer over all samples (null when no sample has an answer). */
  majAnswer: string | null;
  metrics: Record<string, number>;
}

export interface BenchmarkSummary {
  title: string;
  numProblems: number;
  /** Samples per problem (min and max; equal unless a responses file gives uneven counts). */
  minSamples: number;
  maxSamples: number;
  paths: string[];
  warning?: string;
  /** Metric → mean over problems, a share in [0, 1]. */
  scores: Record<string, number>;
  stats: ResponseStats;
}

export interface EvalSummary {
  label: string;
  /** Row name in results.md. */
  model: string;
  mode: 'generate' | 'score';
  createdAt: string;
  elapsedSeconds: number;
  metrics: string[];
  primaryMetric: string;
  settings: Record<string, unknown>;
  versions: Record<string, unknown>;
  benchmarks: Record<string, BenchmarkSummary>;
  /** Unweighted mean over benchmarks of each metric (the README's "avg"). */
  average: Record<string, number>;
}

/** results.md: the v0 README table (model | AIME24 | MATH500 | AMC23 | Minerva | OlympiadBench | avg), other metrics, behaviour, settings. */
export function renderResultsMd(s: EvalSummary): string {
  const names = Object.keys(s.benchmarks);
  const titles = names.map((n) => s.benchmarks[n].title);
  const row = (metric: string) => [
    ...names.map((n) => pct(s.benchmarks[n].scores[metric])),
    pct(s.average[metric]),
  ];
  const parts: string[] = [];
  parts.push(`# Evaluation: ${s.label}`, '');
  parts.push(markdownTable(['model', ...titles, 'avg'], [[s.model, ...row(s.primaryMetric)]]), '');
  parts.push(`${s.primaryMetric} in %; avg is the unweighted mean over the benchmarks.`, '');
  if (s.metrics.length > 1) {
    parts.push('## All metrics (%)', '');
    parts.push(
      markdownTable(
        ['metric', ...titles, 'avg'],
        s.metrics.map((m) => [m, ...row(m)]),
      ),
      '',
    );
  }
  parts.push('## Responses', '');
  const stat = (n: string) => s.benchmarks[n].stats;
  const num = (x: number | null) => (x === null ? '–' : x.toFixed(0));
  parts.push(
    markdownTable(
      [
        'benchmark',
        'problems',
        'samples',
        'mean tokens',
        'truncated %',
        'boxed %',
        'reflection %',
        'code block %',
        'repetitive %',
      ],
      names.map((n) => [
        s.benchmarks[n].title,
        String(s.benchmarks[n].numProblems),
        String(stat(n).count),
        num(stat(n).meanTokens),
        pct(stat(n).truncationRate),
        pct(stat(n).boxedRate),
        pct(stat(n).reflectionRate),
        pct(stat(n).codeBlockRate),
        pct(stat(n).repetitionRate),
      ]),
    ),
    '',
  );
  const warnings = names.map((n) => s.benchmarks[n].warning).filter((w): w is string => Boolean(w));
  if (warnings.length > 0) parts.push('## Warnings', '', ...warnings.map((w) => `- ${w}`), '');
  parts.push('## Settings', '');
  for (const [k, v] of Object.entries({ mode: s.mode, ...s.settings, ...s.versions })) {
    if (v !== undefined && v !== null) parts.push(`- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  parts.push(`- created: ${s.createdAt}`, '');
  return parts.join('\n');
}

export async function writeEvalOutputs(
  outDir: string,
  summary: EvalSummary,
  problems: ProblemResult[],
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const perProblem = problems.map((p) =>
    JSON.stringify({
      benchmark: p.benchmark,
      id: p.id,
      gold: p.gold,
      n: p.samples.length,
      num_correct: p.samples.filter((x) => x.correct).length,
      extracted: p.samples.map((x) => x.extracted),
      correct: p.samples.map((x) => x.correct),
      reasons: p.samples.map((x) => x.reason),
      finished: p.samples.map((x) => x.finished),
      num_tokens: p.samples.map((x) => x.numTokens ?? null),
      maj_answer: p.majAnswer,
      metrics: p.metrics,
    }),
  );
  const responses = problems.flatMap((p) =>
    p.samples.map((x, i) =>
      JSON.stringify({
        benchmark: p.benchmark,
        id: p.id,
        sample: i,
        gold: p.gold,
        response: x.response,
        finished: x.finished,
        ...(x.numTokens === undefined ? {} : { num_tokens: x.numTokens }),
        extracted: x.extracted,
        correct: x.correct,
      }),
    ),
  );
  const lines = (xs: string[]) => (xs.length === 0 ? '' : `${xs.join('\n')}\n`);
  writeFileAtomic(join(outDir, 'per_problem.jsonl'), lines(perProblem));
  writeFileAtomic(join(outDir, 'responses.jsonl'), lines(responses));
  writeFileAtomic(join(outDir, 'results.md'), renderResultsMd(summary));
  // summary.json last: its presence marks a complete folder (the dashboard reads it).
  writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}
