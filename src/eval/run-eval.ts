/**
 * `simplerl eval`: load benchmarks, obtain samples (generated through the engine, or read from a
 * responses file), grade them with the verifier's worker pool, compute metrics and write the eval
 * folder (see report.ts).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { summarizeResponses } from '../analysis/response-stats.ts';
import type { FieldMapping } from '../data/problems.ts';
import { answersEquivalent, type ExtractMode, Grader } from '../reward/index.ts';
import { BENCHMARK_NAMES, type Benchmark, loadBenchmark } from './benchmarks.ts';
import { defaultMetricNames, majorityVote, meanMetrics, parseMetricName, problemMetrics } from './metrics.ts';
import type { BenchmarkSummary, EvalSummary, ProblemResult, ScoredSample } from './report.ts';
import { writeEvalOutputs } from './report.ts';
import { readResponsesFile, type Sample } from './responses-file.ts';

export const EVAL_ERROR = 'eval:';

/** Where the benchmarks come from (shared by both modes). */
export interface BenchmarkOptions {
  /** Built-in names / aliases, or LABEL=PATH. */
  benchmarks: string[];
  dataDir?: string;
  download?: boolean;
  cacheDir?: string;
  hubEndpoint?: string;
  fields?: FieldMapping;
  limit?: number;
}

export interface ScoringOptions {
  /** Metric names (pass@K, avg@K, maj@K); default defaultMetricNames(smallest sample count). */
  metrics?: string[];
  /** Answer extraction of the verifier; default 'any' (the harness also read "the answer is …" and last numbers). */
  extract?: ExtractMode;
  graderTimeoutMs?: number;
  graderThreads?: number;
  phrases?: string[];
}

export interface OutputOptions {
  out: string;
  /** Folder label and results.md heading; default the out folder's name. */
  label?: string;
  /** Row name in results.md; default the model folder's or responses file's name. */
  modelName?: string;
  log?: (msg: string) => void;
}

export interface ScoreResponsesOptions extends BenchmarkOptions, ScoringOptions, OutputOptions {
  responses: string;
}

export interface EvalResult {
  summary: EvalSummary;
  problems: ProblemResult[];
}

export async function loadBenchmarks(opts: BenchmarkOptions): Promise<Benchmark[]> {
  if (opts.benchmarks.length === 0)
    throw new Error(`${EVAL_ERROR} no benchmarks given (e.g. --benchmarks math500,gsm8k)`);
  const out: Benchmark[] = [];
  for (const spec of opts.benchmarks) {
    const b = await loadBenchmark({
      spec,
      dataDir: opts.dataDir,
      download: opts.download,
      cacheDir: opts.cacheDir,
      hubEndpoint: opts.hubEndpoint,
      fields: opts.fields,
      limit: opts.limit,
    });
    if (out.some((x) => x.name === b.name))
      throw new Error(`${EVAL_ERROR} benchmark ${b.name} is given twice`);
    if (b.problems.length === 0)
      throw new Error(`${EVAL_ERROR} benchmark ${b.name} has no problems (${b.paths.join(', ')})`);
    out.push(b);
  }
  // Columns in the original README's order (AIME24, MATH500, AMC23, Minerva, OlympiadBench), GSM8K,
  // then custom files in the order given.
  const rank = (b: Benchmark) => {
    const i = (BENCHMARK_NAMES as readonly string[]).indexOf(b.name);
    return i < 0 ? BENCHMARK_NAMES.length : i;
  };
  return out
    .map((b, i) => ({ b, i }))
    .sort((x, y) => rank(x.b) - rank(y.b) || x.i - y.i)
    .map((x) => x.b);
}

export function simplerlVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Grades every sample and computes the metrics; shared by both modes. */
export async function scoreSamples(
  benchmarks: readonly Benchmark[],
  samples: Map<string, Map<string, Sample[]>>,
  scoring: ScoringOptions,
): Promise<{
  problems: ProblemResult[];
  metrics: string[];
  benchmarkScores: Map<string, Record<string, number>>;
}> {
  let minSamples = Number.POSITIVE_INFINITY;
  for (const b of benchmarks)
    for (const p of b.problems)
      minSamples = Math.min(minSamples, samples.get(b.name)?.get(p.id)?.length ?? 0);
  if (!(minSamples >= 1)) throw new Error(`${EVAL_ERROR} some problem has no sample`);
  const metrics = scoring.metrics ?? defaultMetricNames(minSamples);
  for (const m of metrics) {
    const { k } = parseMetricName(m);
    if (k > minSamples) {
      throw new Error(
        `${EVAL_ERROR} metric ${m} needs ${k} samples per problem but some problem has only ${minSamples} (generate with --n ${k} or more)`,
      );
    }
  }
  const grader = await Grader.create({
    extract: scoring.extract ?? 'any',
    timeoutMs: scoring.graderTimeoutMs,
    threads: scoring.graderThreads,
  });
  const problems: ProblemResult[] = [];
  const benchmarkScores = new Map<string, Record<string, number>>();
  try {
    for (const b of benchmarks) {
      const flat: { problem: number; sample: Sample }[] = [];
      b.problems.forEach((p, i) => {
        for (const s of samples.get(b.name)?.get(p.id) ?? []) flat.push({ problem: i, sample: s });
      });
      const graded = await grader.grade(
        flat.map(({ problem, sample }) => ({
          gold: b.problems[problem].gold,
          response: sample.response,
          finished: sample.finished ?? true,
        })),
      );
      const scored: ScoredSample[][] = b.problems.map(() => []);
      flat.forEach(({ problem, sample }, j) => {
        const g = graded[j];
        const x: ScoredSample = {
          response: sample.response,
          finished: sample.finished ?? true,
          extracted: g.extracted ?? null,
          correct: g.correct,
          reason: g.reason,
        };
        if (sample.numTokens !== undefined) x.numTokens = sample.numTokens;
        scored[problem].push(x);
      });
      const results = b.problems.map((p, i): ProblemResult => {
        const answers = scored[i].map((x) => x.extracted);
        const verdicts = scored[i].map((x) => x.correct);
        const {
          n: _n,
          numCorrect: _c,
          ...named
        } = problemMetrics({ answers, verdicts }, metrics, answersEquivalent);
        return {
          benchmark: b.name,
          id: p.id,
          gold: p.gold,
          samples: scored[i],
          majAnswer: majorityVote(answers, verdicts, answers.length, answersEquivalent).answer,
          metrics: named,
        };
      });
      benchmarkScores.set(
        b.name,
        meanMetrics(
          results.map((r) => r.metrics),
          metrics,
        ),
      );
      problems.push(...results);
    }
  } finally {
    await grader.close();
  }
  return { problems, metrics, benchmarkScores };
}

/** Builds the summary, writes the folder and returns both. */
export async function finishEval(
  benchmarks: readonly Benchmark[],
  scored: Awaited<ReturnType<typeof scoreSamples>>,
  meta: {
    mode: 'generate' | 'score';
    out: string;
    label?: string;
    model: string;
    settings: Record<string, unknown>;
    versions: Record<string, unknown>;
    startedAt: number;
    phrases?: string[];
  },
): Promise<EvalResult> {
  const summaries: Record<string, BenchmarkSummary> = {};
  for (const b of benchmarks) {
    const ps = scored.problems.filter((p) => p.benchmark === b.name);
    const counts = ps.map((p) => p.samples.length);
    const stats = summarizeResponses(
      ps.flatMap((p) =>
        p.samples.map((x) => ({
          response: x.response,
          numTokens: x.numTokens,
          finished: x.finished,
          correct: x.correct,
        })),
      ),
      { phrases: meta.phrases },
    );
    summaries[b.name] = {
      title: b.title,
      numProblems: b.problems.length,
      minSamples: Math.min(...counts),
      maxSamples: Math.max(...counts),
      paths: b.paths,
      ...(b.warning ? { warning: b.warning } : {}),
      scores: scored.benchmarkScores.get(b.name) ?? {},
      stats,
    };
  }
  const average: Record<string, number> = {};
  for (const m of scored.metrics) {
    average[m] = benchmarks.reduce((acc, b) => acc + summaries[b.name].scores[m], 0) / benchmarks.length;
  }
  const summary: EvalSummary = {
    label: meta.label ?? basename(meta.out),
    model: meta.model,
    mode: meta.mode,
    createdAt: new Date().toISOString(),
    elapsedSeconds: (Date.now() - meta.startedAt) / 1000,
    metrics: scored.metrics,
    primaryMetric: 'pass@1',
    settings: meta.settings,
    versions: meta.versions,
    benchmarks: summaries,
    average,
  };
  await writeEvalOutputs(meta.out, summary, scored.problems);
  return { summary, problems: scored.problems };
}

/** `simplerl eval --responses FILE`: grade existing outputs. */
export async function scoreResponses(opts: ScoreResponsesOptions): Promise<EvalResult> {
  const startedAt = Date.now();
  const log = opts.log ?? (() => {});
  const benchmarks = await loadBenchmarks(opts);
  for (const b of benchmarks) {
    log(`${b.name}: ${b.problems.length} problems from ${b.paths.join(', ')}`);
    if (b.warning) log(`warning: ${b.warning}`);
  }
  const file = await readResponsesFile(opts.responses, benchmarks, {
    skipUnmatched: opts.limit !== undefined,
  });
  log(
    `${opts.responses}: ${file.numLines} responses${file.numSkipped ? `, ${file.numSkipped} skipped (other benchmarks or beyond --limit)` : ''}`,
  );
  const scored = await scoreSamples(benchmarks, file.samples, opts);
  return finishEval(benchmarks, scored, {
    mode: 'score',
    out: opts.out,
    label: opts.label,
    model: opts.modelName ?? basename(opts.responses).replace(/\.jsonl$/, ''),
    settings: {
      responses: opts.responses,
      benchmarks: benchmarks.map((b) => b.name),
      limit: opts.limit ?? null,
      extract: opts.extract ?? 'any',
      grader_timeout_ms: opts.graderTimeoutMs ?? 3000,
      metrics: scored.metrics,
      reflection_phrases: opts.phrases ?? null,
    },
    versions: { simplerl: simplerlVersion(), node: process.version },
    startedAt,
    phrases: opts.phrases,
  });
}
