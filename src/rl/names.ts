// The one source of the built-in names the config accepts (schema.ts, resolve.ts and the registries
// import these; each registry is typed `satisfies Record<Name, Spec>`, so a name without an
// implementation, or an implementation without a name, fails the type check).

/** Advantage estimators built in (src/rl/estimators.ts); a user module may register more. */
export const BUILTIN_ESTIMATOR_NAMES = ['gae', 'grpo', 'grpo-no-std', 'rloo', 'reinforce++'] as const;
export type BuiltinEstimatorName = (typeof BUILTIN_ESTIMATOR_NAMES)[number];

/** Loss aggregations (src/rl/loss-aggs.ts). */
export const LOSS_AGG_NAMES = [
  'token-mean',
  'seq-mean-token-mean',
  'seq-mean-token-sum',
  'seq-mean-token-sum-norm',
] as const;
export type LossAggName = (typeof LOSS_AGG_NAMES)[number];

/** Policy losses of the engine (engine/simplerl_engine/losses.py registers the same names). */
export const POLICY_LOSS_NAMES = ['ppo', 'grpo', 'gspo'] as const;
export type PolicyLossName = (typeof POLICY_LOSS_NAMES)[number];

/** Named bundles of settings (src/config/recipes.ts), picked with algo.recipe. */
export const RECIPE_NAMES = ['dr-grpo', 'dapo', 'gspo'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

/** What `simplerl demo --algo NAME` accepts: an algorithm (algo.name) or a recipe (algo.recipe). */
export const DEMO_ALGO_NAMES = ['ppo', 'grpo', ...RECIPE_NAMES] as const;
export type DemoAlgoName = (typeof DEMO_ALGO_NAMES)[number];
