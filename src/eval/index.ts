// Public API of the evaluation harness (`simplerl eval`).
export {
  BENCHMARK_NAMES,
  BENCHMARKS,
  type Benchmark,
  type BenchmarkName,
  type BenchmarkProblem,
  downloadBenchmark,
  findBenchmarkFile,
  loadBenchmark,
  resolveBenchmarkName,
} from './benchmarks.ts';
export {
  CONTEXT_TOO_LONG,
  type GenerateEvalOptions,
  generateAndScore,
  resolveModelDir,
  stopIdsOf,
} from './generate.ts';
export {
  avgAtK,
  defaultMetricNames,
  type Equivalence,
  type MajorityVote,
  METRICS_ERROR,
  majorityVote,
  meanMetrics,
  parseMetricName,
  passAtK,
  problemMetrics,
} from './metrics.ts';
export { type EvalSummary, type ProblemResult, renderResultsMd, writeEvalOutputs } from './report.ts';
export { BAD_RESPONSE_LINE, MISSING_RESPONSES, readResponsesFile } from './responses-file.ts';
export {
  EVAL_ERROR,
  type EvalResult,
  loadBenchmarks,
  type ScoreResponsesOptions,
  scoreResponses,
  scoreSamples,
} from './run-eval.ts';
