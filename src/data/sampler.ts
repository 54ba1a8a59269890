import { hash32, mulberry32 } from '../util/random.ts';

/** Error prefix of a sampler state that does not fit the data or seed. */
export const BAD_SAMPLER_STATE = 'bad sampler state';

/** JSON-serialisable position of a PromptSampler (saved in checkpoints' controller.json). */
export interface SamplerState {
  seed: number;
  /** Epoch of the next index handed out (0-based). */
  epoch: number;
  /** Position of the next index within that epoch's permutation. */
  position: number;
  numItems: number;
}

/** The permutation of [0, numItems) for one epoch: Fisher-Yates driven by hash(seed, epoch). */
export function epochPermutation(numItems: number, seed: number, epoch: number): Uint32Array {
  const rand = mulberry32(hash32(hash32(seed) ^ Math.imul(epoch + 1, 0x9e3779b9)));
  const perm = new Uint32Array(numItems);
  for (let i = 0; i < numItems; i++) perm[i] = i;
  for (let i = numItems - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/**
 * Deterministic shuffled order over `numItems` prompts, reshuffled every epoch; each epoch visits
 * every item exactly once. The same seed gives the same order, and a sampler built from a saved
 * `state()` continues exactly where the saved one stood.
 */
export class PromptSampler {
  private epoch: number;
  private position: number;
  private perm: Uint32Array;

  constructor(
    readonly numItems: number,
    readonly seed: number,
    state?: SamplerState,
  ) {
    if (!Number.isInteger(numItems) || numItems <= 0)
      throw new Error(`PromptSampler: numItems must be a positive integer, got ${numItems}`);
    if (!Number.isInteger(seed)) throw new Error(`PromptSampler: seed must be an integer, got ${seed}`);
    this.epoch = 0;
    this.position = 0;
    if (state) {
      const bad = (msg: string): never => {
        throw new Error(`${BAD_SAMPLER_STATE}: ${msg}`);
      };
      if (state.seed !== seed) bad(`state.seed ${state.seed} differs from the sampler seed ${seed}`);
      if (state.numItems !== numItems)
        bad(
          `state.numItems ${state.numItems} differs from the ${numItems} items loaded (did the data change?)`,
        );
      if (!Number.isInteger(state.epoch) || state.epoch < 0) bad(`state.epoch must be an integer >= 0`);
      if (!Number.isInteger(state.position) || state.position < 0 || state.position > numItems)
        bad(`state.position must be an integer in [0, ${numItems}]`);
      this.epoch = state.epoch;
      this.position = state.position;
    }
    this.perm = epochPermutation(numItems, seed, this.epoch);
  }

  /** The next k item indices, continuing into the next epoch (reshuffled) when this one runs out. */
  next(k: number): number[] {
    if (!Number.isInteger(k) || k < 0)
      throw new Error(`PromptSampler.next: k must be an integer >= 0, got ${k}`);
    const out: number[] = [];
    while (out.length < k) {
      if (this.position === this.numItems) {
        this.epoch++;
        this.position = 0;
        this.perm = epochPermutation(this.numItems, this.seed, this.epoch);
      }
      out.push(this.perm[this.position++]);
    }
    return out;
  }

  /** Epoch of the next index (0-based); a caller may stop training when it reaches a limit. */
  get currentEpoch(): number {
    return this.position === this.numItems ? this.epoch + 1 : this.epoch;
  }

  state(): SamplerState {
    return { seed: this.seed, epoch: this.epoch, position: this.position, numItems: this.numItems };
  }
}
