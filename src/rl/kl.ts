/**
 * KL to the reference policy: per-token estimators, the reward shaping of the original work, and
 * fixed / adaptive coefficient controllers.
 */

/** Error prefixes (tests match them). */
export const UNKNOWN_KL_ESTIMATOR = 'unknown KL estimator';
export const BAD_KL_CONTROLLER_STATE = 'bad KL controller state';

/**
 * Per-token estimators of KL(π‖π_ref) from samples of π, with log-ratio x = logp − ref_logp
 * (Schulman, "Approximating KL divergence", http://joschu.net/blog/kl-approx.html):
 *
 *   k1 = x                      unbiased, high variance (the original work's penalty in the reward)
 *   k2 = x² / 2                 biased, low variance
 *   k3 = exp(−x) − 1 + x        unbiased, low variance, ≥ 0 (verl "low_var_kl", clamped to [−10, 10])
 */
export const KL_ESTIMATORS = {
  k1: (x: number) => x,
  k2: (x: number) => 0.5 * x * x,
  k3: (x: number) => Math.min(10, Math.max(-10, Math.exp(-x) - 1 + x)),
} as const;

export type KlEstimatorName = keyof typeof KL_ESTIMATORS;
export const KL_ESTIMATOR_NAMES = Object.keys(KL_ESTIMATORS) as KlEstimatorName[];

/** [T] per-token KL estimate; tokens with mask 0 get 0. */
export function klPerToken(
  logp: Float32Array,
  refLogp: Float32Array,
  estimator: string = 'k1',
  mask?: Uint8Array,
): Float32Array {
  if (!Object.hasOwn(KL_ESTIMATORS, estimator))
    throw new Error(
      `${UNKNOWN_KL_ESTIMATOR} "${estimator}": valid names are ${KL_ESTIMATOR_NAMES.join(', ')}`,
    );
  if (refLogp.length !== logp.length)
    throw new Error(`klPerToken: refLogp.length = ${refLogp.length}, expected logp.length = ${logp.length}`);
  if (mask !== undefined && mask.length !== logp.length)
    throw new Error(`klPerToken: mask.length = ${mask.length}, expected ${logp.length}`);
  const k = KL_ESTIMATORS[estimator as KlEstimatorName];
  const out = new Float32Array(logp.length);
  for (let t = 0; t < out.length; t++) out[t] = mask === undefined || mask[t] ? k(logp[t] - refLogp[t]) : 0;
  return out;
}

/** Mean of the per-token KL over counted tokens (0 when none count). */
export function maskedMean(x: Float32Array, mask?: Uint8Array): number {
  let n = 0;
  let s = 0;
  for (let t = 0; t < x.length; t++)
    if (mask === undefined || mask[t]) {
      n++;
      s += x[t];
    }
  return n > 0 ? s / n : 0;
}

/**
 * Token rewards of the original work (OpenRLHF `compute_reward`): the scalar score of response b on
 * its last token, and the KL penalty −coef·kl_t on every token:
 *
 *   r_t = −coef·kl_t + [t = last]·score_b
 *
 * Shapes: scores [R]; responseOffsets [R+1]; klPerToken [T] → [T]. Every response needs ≥ 1 token.
 */
export function placeOutcomeRewards(
  scores: Float32Array,
  responseOffsets: Int32Array,
  klPerTokenValues?: Float32Array,
  klCoef = 0,
): Float32Array {
  const numResponses = responseOffsets.length - 1;
  if (scores.length !== numResponses)
    throw new Error(`placeOutcomeRewards: scores.length = ${scores.length}, expected R = ${numResponses}`);
  const numTokens = responseOffsets[numResponses];
  if (klPerTokenValues !== undefined && klPerTokenValues.length !== numTokens)
    throw new Error(
      `placeOutcomeRewards: klPerToken.length = ${klPerTokenValues.length}, expected ${numTokens}`,
    );
  const out = new Float32Array(numTokens);
  if (klPerTokenValues !== undefined && klCoef !== 0)
    for (let t = 0; t < numTokens; t++) out[t] = -klCoef * klPerTokenValues[t];
  for (let b = 0; b < numResponses; b++) {
    if (responseOffsets[b + 1] <= responseOffsets[b])
      throw new Error(`placeOutcomeRewards: response ${b} is empty (no token to carry its score)`);
    out[responseOffsets[b + 1] - 1] += scores[b];
  }
  return out;
}

/**
 * Keep mask [R] (1 = keep) that drops the groups whose n rewards are all equal: their group-relative
 * advantages are all zero, so they only dilute the batch (DAPO's dynamic sampling,
 * https://arxiv.org/abs/2503.14476). Rows are prompt-major.
 */
export function dropUniformGroups(rewards: Float32Array, groupSize: number): Uint8Array {
  if (!Number.isInteger(groupSize) || groupSize < 1 || rewards.length % groupSize !== 0)
    throw new Error(
      `dropUniformGroups: ${rewards.length} rewards are not a multiple of groupSize ${groupSize}`,
    );
  const keep = new Uint8Array(rewards.length);
  for (let g = 0; g < rewards.length; g += groupSize) {
    let isUniform = true;
    for (let i = g + 1; i < g + groupSize; i++) if (rewards[i] !== rewards[g]) isUniform = false;
    if (!isUniform) keep.fill(1, g, g + groupSize);
  }
  return keep;
}

/** Per-token mask [T] from a per-response keep mask [R]. */
export function rowMaskToTokens(keep: Uint8Array, responseOffsets: Int32Array): Uint8Array {
  const out = new Uint8Array(responseOffsets[responseOffsets.length - 1]);
  for (let b = 0; b < keep.length; b++) if (keep[b]) out.fill(1, responseOffsets[b], responseOffsets[b + 1]);
  return out;
}

export type KlControllerState =
  | { type: 'fixed'; coef: number }
  | { type: 'adaptive'; coef: number; target: number; horizon: number };

export interface KlController {
  readonly coef: number;
  /** Called once per step with the batch's mean KL and the number of samples it covered. */
  update(observedKl: number, numSteps: number): void;
  state(): KlControllerState;
}

export class FixedKL implements KlController {
  constructor(readonly coef: number) {
    if (!(Number.isFinite(coef) && coef >= 0)) throw new Error(`FixedKL: coef must be >= 0, got ${coef}`);
  }
  update(_observedKl: number, _numSteps: number): void {}
  state(): KlControllerState {
    return { type: 'fixed', coef: this.coef };
  }
  static fromState(state: KlControllerState): FixedKL {
    if (state?.type !== 'fixed')
      throw new Error(`${BAD_KL_CONTROLLER_STATE}: expected type "fixed", got ${JSON.stringify(state)}`);
    return new FixedKL(state.coef);
  }
}

/**
 * Adaptive coefficient of Ziegler et al. 2019 (https://arxiv.org/abs/1909.08593, §2.2), as in
 * OpenRLHF / verl `AdaptiveKLController`:
 *
 *   e = clip(KL / target − 1, −0.2, 0.2),   coef ← coef · (1 + e · numSteps / horizon)
 */
export class AdaptiveKL implements KlController {
  private value: number;
  constructor(
    initCoef: number,
    readonly target: number,
    readonly horizon: number,
  ) {
    if (!(Number.isFinite(initCoef) && initCoef >= 0))
      throw new Error(`AdaptiveKL: coef must be >= 0, got ${initCoef}`);
    if (!(target > 0)) throw new Error(`AdaptiveKL: target must be > 0, got ${target}`);
    if (!(horizon > 0)) throw new Error(`AdaptiveKL: horizon must be > 0, got ${horizon}`);
    this.value = initCoef;
  }
  get coef(): number {
    return this.value;
  }
  update(observedKl: number, numSteps: number): void {
    if (!Number.isFinite(observedKl)) return; // a NaN KL must not poison the coefficient
    const e = Math.min(0.2, Math.max(-0.2, observedKl / this.target - 1));
    this.value *= 1 + (e * numSteps) / this.horizon;
  }
  state(): KlControllerState {
    return { type: 'adaptive', coef: this.value, target: this.target, horizon: this.horizon };
  }
  static fromState(state: KlControllerState): AdaptiveKL {
    if (state?.type !== 'adaptive')
      throw new Error(`${BAD_KL_CONTROLLER_STATE}: expected type "adaptive", got ${JSON.stringify(state)}`);
    return new AdaptiveKL(state.coef, state.target, state.horizon);
  }
}

/** Rebuilds a controller from `state()` (checkpoint resume). */
export function klControllerFromState(state: KlControllerState): KlController {
  if (state?.type === 'fixed') return FixedKL.fromState(state);
  if (state?.type === 'adaptive') return AdaptiveKL.fromState(state);
  throw new Error(
    `${BAD_KL_CONTROLLER_STATE}: type must be "fixed" or "adaptive", got ${JSON.stringify(state)}`,
  );
}

/** A controller from config values: adaptive when `target` is given, else fixed. */
export function createKlController(opts: {
  coef: number;
  target?: number | null;
  horizon?: number;
}): KlController {
  return opts.target === undefined || opts.target === null
    ? new FixedKL(opts.coef)
    : new AdaptiveKL(opts.coef, opts.target, opts.horizon ?? 10000);
}
