// Divergence: a step whose losses, gradient norms or values are not finite stops the run at that step
// (before its metrics row or checkpoint is written), so the last checkpoint holds the weights from
// before the step. The engine skips an optimiser update whose gradient norm is not finite (optim.py);
// the mini-batch means keep non-finite values (trainer.ts `aggregate`) so that this check sees them.
import type { MetricsRow } from '../run/index.ts';

export const TRAIN_ERROR = 'training failed';
/** Words of the error of a diverged step (after `<TRAIN_ERROR>: step N `). */
export const STEP_DIVERGED = 'diverged';

export class DivergedError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
    this.name = 'DivergedError';
  }
}

/** Keys of a metrics row whose value is not a finite number (`time` is a string). */
export function nonFiniteMetrics(row: MetricsRow): [string, unknown][] {
  return Object.entries(row).filter(([k, v]) => k !== 'time' && !Number.isFinite(v));
}

/** Throws DivergedError when a value of the step's row is not finite, naming them and the checkpoint. */
export function checkDiverged(step: number, row: MetricsRow, lastCheckpointDir: string | undefined): void {
  const broken = nonFiniteMetrics(row);
  if (broken.length === 0) return;
  throw new DivergedError(
    `${TRAIN_ERROR}: step ${step} ${STEP_DIVERGED}: ${broken.map(([k, v]) => `${k}=${v}`).join(', ')}. The last ` +
      `complete checkpoint is ${lastCheckpointDir ?? 'none'}; lower optim.actor_lr (optim.critic_lr) or ` +
      'optim.grad_clip and --resume.',
    step,
  );
}
