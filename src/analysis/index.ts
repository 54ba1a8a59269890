// Public API of the response analytics (`simplerl analyze`, eval statistics, trainer metrics).
export {
  ANALYZE_ERROR,
  analyzeResponses,
  analyzeRun,
  type LengthHistogram,
  type ResponsesAnalysis,
  type RunAnalysis,
  type StepStats,
  TREND_METRICS,
  type Trend,
} from './analyze.ts';
export {
  countReflections,
  DEFAULT_REFLECTION_PHRASES,
  hasReflection,
  REFLECTION_ERROR,
  type ReflectionCount,
  V1_REFLECTION_PHRASES,
} from './reflection.ts';
export { renderResponsesAnalysisMd, renderRunAnalysisMd, writeAnalysis } from './render.ts';
export {
  hasBoxed,
  hasCodeBlock,
  isRepetitive,
  percentile,
  type ResponseItem,
  type ResponseStats,
  type SummarizeOptions,
  summarizeResponses,
} from './response-stats.ts';
