import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gae } from './estimators/gae.ts';
import { grpo, grpoNoStd } from './estimators/grpo.ts';
import { reinforcePlusPlus } from './estimators/reinforce-plus-plus.ts';
import { rloo } from './estimators/rloo.ts';
import type { AdvantageEstimator, AdvantageInput, AdvantageOutput } from './estimators/types.ts';
import { BUILTIN_ESTIMATOR_NAMES, type BuiltinEstimatorName } from './names.ts';

export type { AdvantageEstimator, AdvantageInput, AdvantageOutput } from './estimators/types.ts';

/** Error prefixes (tests match them). */
export const UNKNOWN_ESTIMATOR = 'unknown advantage estimator';
export const BAD_ADVANTAGE_INPUT = 'bad advantage input';
export const ESTIMATOR_MODULE_ERROR = 'estimator module';

export interface EstimatorSpec {
  fn: AdvantageEstimator;
  /** Needs critic values (PPO with a critic). */
  needsValues: boolean;
  /** Compares samples of one prompt: R must be a multiple of groupSize. */
  usesGroups: boolean;
  description: string;
}

/** Built-in advantage estimators by name (names: ./names.ts); each function documents its shapes, formula and paper. */
export const ADVANTAGE_ESTIMATORS = {
  gae: { fn: gae, needsValues: true, usesGroups: false, description: 'GAE(γ, λ) with a critic (PPO)' },
  grpo: { fn: grpo, needsValues: false, usesGroups: true, description: 'group mean/std normalised outcome' },
  'grpo-no-std': {
    fn: grpoNoStd,
    needsValues: false,
    usesGroups: true,
    description: 'group mean only (Dr. GRPO)',
  },
  rloo: { fn: rloo, needsValues: false, usesGroups: true, description: 'leave-one-out baseline' },
  'reinforce++': {
    fn: reinforcePlusPlus,
    needsValues: false,
    usesGroups: false,
    description: 'discounted return whitened over the batch',
  },
} as const satisfies Record<BuiltinEstimatorName, EstimatorSpec>;

export type AdvantageEstimatorName = BuiltinEstimatorName;
export const ADVANTAGE_ESTIMATOR_NAMES: readonly string[] = BUILTIN_ESTIMATOR_NAMES;

/** Estimators added at run time (registerAdvantageEstimator, algo.estimator_module). */
const USER_ESTIMATORS = new Map<string, EstimatorSpec>();

/** Every name `getAdvantageEstimator` accepts now: built-ins, then registered ones. */
export function advantageEstimatorNames(): string[] {
  return [...BUILTIN_ESTIMATOR_NAMES, ...USER_ESTIMATORS.keys()];
}

/** Adds an estimator under a new name (a built-in or registered name is an error). */
export function registerAdvantageEstimator(name: string, spec: EstimatorSpec): void {
  if (!/^[a-z0-9][a-z0-9+._-]*$/i.test(name))
    throw new Error(`${ESTIMATOR_MODULE_ERROR}: bad estimator name ${JSON.stringify(name)}`);
  if (advantageEstimatorNames().includes(name))
    throw new Error(`${ESTIMATOR_MODULE_ERROR}: estimator "${name}" is already registered`);
  if (typeof spec?.fn !== 'function')
    throw new Error(
      `${ESTIMATOR_MODULE_ERROR}: estimator "${name}" needs fn(input) => {advantages, returns}`,
    );
  USER_ESTIMATORS.set(name, {
    fn: spec.fn,
    needsValues: spec.needsValues === true,
    usesGroups: spec.usesGroups === true,
    description: String(spec.description ?? name),
  });
}

const LOADED_MODULES = new Map<string, string[]>();

/**
 * Loads a user's module (TypeScript under tsx, or JavaScript) whose default export maps names to
 * estimator specs ({fn, usesGroups?, needsValues?, description?}) and registers them; loading the same
 * file again is a no-op. Returns the names it registered.
 */
export async function loadEstimatorModule(path: string): Promise<string[]> {
  const abs = resolve(path);
  const known = LOADED_MODULES.get(abs);
  if (known) return known;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (err) {
    throw new Error(`${ESTIMATOR_MODULE_ERROR} ${path}: cannot load: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const specs = mod.default;
  if (typeof specs !== 'object' || specs === null)
    throw new Error(`${ESTIMATOR_MODULE_ERROR} ${path}: default export must map names to {fn, ...}`);
  for (const [name, spec] of Object.entries(specs)) registerAdvantageEstimator(name, spec as EstimatorSpec);
  LOADED_MODULES.set(abs, Object.keys(specs));
  return Object.keys(specs);
}

/** The estimator's spec, or an error listing the valid names. */
export function getAdvantageEstimator(name: string): EstimatorSpec {
  if (Object.hasOwn(ADVANTAGE_ESTIMATORS, name)) return ADVANTAGE_ESTIMATORS[name as BuiltinEstimatorName];
  const user = USER_ESTIMATORS.get(name);
  if (user) return user;
  throw new Error(`${UNKNOWN_ESTIMATOR} "${name}": valid names are ${advantageEstimatorNames().join(', ')}`);
}

/** Checks shapes and values of an estimator input; errors name the field. */
export function validateAdvantageInput(name: string, input: AdvantageInput): void {
  const spec = getAdvantageEstimator(name);
  const bad = (msg: string): never => {
    throw new Error(`${BAD_ADVANTAGE_INPUT} (${name}): ${msg}`);
  };
  const { tokenRewards: r, responseOffsets: off } = input;
  if (!(r instanceof Float32Array)) bad('tokenRewards must be a Float32Array');
  if (!(off instanceof Int32Array) || off.length < 1)
    bad('responseOffsets must be an Int32Array of length R + 1');
  if (off[0] !== 0) bad(`responseOffsets[0] must be 0, got ${off[0]}`);
  for (let b = 0; b + 1 < off.length; b++)
    if (off[b + 1] < off[b])
      bad(`responseOffsets must not decrease (index ${b + 1}: ${off[b + 1]} < ${off[b]})`);
  if (off[off.length - 1] !== r.length)
    bad(`responseOffsets[R] = ${off[off.length - 1]} must equal tokenRewards.length = ${r.length}`);
  const numResponses = off.length - 1;
  if (!Number.isInteger(input.groupSize) || input.groupSize < 1)
    bad(`groupSize must be a positive integer, got ${input.groupSize}`);
  if (spec.usesGroups && numResponses % input.groupSize !== 0)
    bad(`${numResponses} responses are not a multiple of groupSize ${input.groupSize}`);
  for (const [field, arr] of [
    ['values', input.values],
    ['mask', input.mask],
  ] as const)
    if (arr !== undefined && arr.length !== r.length)
      bad(`${field}.length = ${arr.length}, expected ${r.length}`);
  if (spec.needsValues && input.values === undefined)
    bad('values are required (a critic); use grpo or rloo without one');
  for (const [field, x, lo, hi] of [
    ['gamma', input.gamma, 0, 1],
    ['lambda', input.lambda, 0, 1],
  ] as const)
    if (x !== undefined && !(x >= lo && x <= hi)) bad(`${field} must be in [${lo}, ${hi}], got ${x}`);
  for (let t = 0; t < r.length; t++)
    if (!Number.isFinite(r[t])) bad(`tokenRewards[${t}] is not finite (${r[t]})`);
}

/** Runs the named estimator after validating its input. */
export function computeAdvantages(name: string, input: AdvantageInput): AdvantageOutput {
  validateAdvantageInput(name, input);
  return getAdvantageEstimator(name).fn(input);
}
