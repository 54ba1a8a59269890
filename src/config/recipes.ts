// Named recipes: bundles of algo settings picked with one key, `algo.recipe: NAME` (or `simplerl demo
// --algo NAME`). The recipe's values go under the config: any key the file or a --set names wins.
// Values are the papers' (each entry cites it); lengths scale with rollout.max_new_tokens.
import type { RecipeName } from '../rl/names.ts';

type Doc = Record<string, unknown>;

export interface RecipeSpec {
  paper: string;
  /** The algo values of the recipe, given the config as written (for values that scale with it). */
  algo: (doc: Doc) => Doc;
}

function maxNewTokens(doc: Doc): number {
  const r = (doc.rollout ?? {}) as Doc;
  return typeof r.max_new_tokens === 'number' ? r.max_new_tokens : 3000;
}

export const RECIPES = {
  // Liu et al. 2025, "Understanding R1-Zero-Like Training: A Critical Perspective" (arXiv:2503.20783):
  // no std normalisation of the group advantage, and no per-response length normalisation (a constant
  // denominator, verl's seq-mean-token-sum-norm); β = 0 (no KL); clip 0.2.
  'dr-grpo': {
    paper: 'Dr. GRPO, arXiv:2503.20783',
    algo: () => ({
      name: 'grpo',
      estimator: 'grpo-no-std',
      loss_agg: 'seq-mean-token-sum-norm',
      kl: { coef: 0 },
    }),
  },
  // Yu et al. 2025, "DAPO" (arXiv:2503.14476): clip-higher ε_low 0.2 / ε_high 0.28, dynamic sampling
  // (verl max_num_gen_batches 10), token-level loss (token-mean over the batch), soft overlong
  // punishment with a 4096-token buffer under a 20480 limit (the last 20% of the limit), factor 1.0,
  // no KL, no entropy bonus.
  dapo: {
    paper: 'DAPO, arXiv:2503.14476',
    algo: (doc) => ({
      name: 'grpo',
      estimator: 'grpo',
      clip: 0.2,
      clip_high: 0.28,
      dynamic_sampling: true,
      max_sampling_rounds: 10,
      loss_agg: 'token-mean',
      overlong_buffer: Math.max(1, Math.round(0.2 * maxNewTokens(doc))),
      overlong_penalty: 1.0,
      kl: { coef: 0 },
    }),
  },
  // Zheng et al. 2025, "Group Sequence Policy Optimization" (arXiv:2507.18071): the sequence-level ratio
  // (length-normalised), clip range 3e-4 / 4e-4, sequence-mean loss, group-normalised advantages, no KL.
  gspo: {
    paper: 'GSPO, arXiv:2507.18071',
    algo: () => ({
      name: 'grpo',
      estimator: 'grpo',
      policy_loss: 'gspo',
      gspo_clip: 3e-4,
      gspo_clip_high: 4e-4,
      loss_agg: 'seq-mean-token-mean',
      kl: { coef: 0 },
    }),
  },
} as const satisfies Record<RecipeName, RecipeSpec>;

function isObject(x: unknown): x is Doc {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `base` with `over` on top, mappings merged key by key. */
function mergeUnder(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isObject(v) && isObject(out[k]) ? mergeUnder(out[k] as Doc, v) : v;
  return out;
}

/** The config document with its algo.recipe's values under it (unchanged without a known recipe). */
export function applyRecipe(doc: Doc): Doc {
  const algo = isObject(doc.algo) ? doc.algo : {};
  const name = algo.recipe;
  if (typeof name !== 'string' || !Object.hasOwn(RECIPES, name)) return doc;
  const spec: RecipeSpec = RECIPES[name as RecipeName];
  return { ...doc, algo: mergeUnder(spec.algo(doc), algo) };
}
