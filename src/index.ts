// The public API of the `simplerl` package (`import { verify, runTraining } from 'simplerl'`).
// Each area's own index.ts is its curated surface; this file gathers them, plus the few modules
// without one. docs/api.md shows each part with an example.

// Response analytics (lengths, reflection phrases, trends of a run).
export * from './analysis/index.ts';
// Config: YAML loading, --set style overrides, the zod schema, resolution of derived fields.
export * from './config/index.ts';
// Problem files (JSONL / Parquet / JSON) with field mapping.
export {
  BAD_PROBLEM_LINE,
  type FieldMapping,
  type LoadProblemsOptions,
  type LoadProblemsReport,
  lastBoxed,
  loadProblems,
  loadProblemsReport,
  normaliseProblemText,
  type Problem,
} from './data/problems.ts';
// The engine client (the Python worker behind a Unix socket; see engine/PROTOCOL.md).
export * from './engine/index.ts';
// Evaluation: benchmarks, pass@k / maj@k, scoring of response files, generation through the engine.
export * from './eval/index.ts';
// Memory planner (`simplerl plan`).
export {
  formatPlan,
  type MemoryPlan,
  type ModelShape,
  modelShapeFromHf,
  type PlanSettings,
  planMemory,
} from './plan/memory.ts';
// Verifier, grader (worker pool, timeouts, custom reward) and the reward table.
export * from './reward/index.ts';
// Advantage estimators (GAE, GRPO, RLOO, REINFORCE++) by name.
export {
  ADVANTAGE_ESTIMATOR_NAMES,
  ADVANTAGE_ESTIMATORS,
  type AdvantageEstimator,
  type AdvantageEstimatorName,
  type AdvantageInput,
  type AdvantageOutput,
  BAD_ADVANTAGE_INPUT,
  computeAdvantages,
  type EstimatorSpec,
  getAdvantageEstimator,
  loadEstimatorModule,
  registerAdvantageEstimator,
  UNKNOWN_ESTIMATOR,
  validateAdvantageInput,
} from './rl/estimators.ts';
// Training: the PPO/GRPO loop and its hooks.
export {
  RESUME_ERROR,
  runTraining,
  TRAIN_ERROR,
  type TrainHooks,
  type TrainResult,
  totalStepsOf,
} from './rl/trainer.ts';
// Run folders: metrics.jsonl, rollouts, checkpoints.
export * from './run/index.ts';
export {
  checkPromptTemplate,
  MATH_INSTRUCTION,
  PROMPT_TEMPLATE_NAMES,
  PROMPT_TEMPLATES,
  type PromptTemplateName,
  renderPrompt,
  UNKNOWN_PROMPT_TEMPLATE,
} from './tokenizer/prompts.ts';
// Tokenizer (Hugging Face tokenizer.json + chat template) and prompt templates.
export {
  CHAT_TEMPLATE_ERROR,
  type ChatMessage,
  type FlatIds,
  TextTokenizer,
  TOKENIZER_LOAD_ERROR,
} from './tokenizer/tokenizer.ts';
