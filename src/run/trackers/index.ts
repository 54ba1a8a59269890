// Trackers: where metrics rows go besides metrics.jsonl (the source of truth).
import { basename } from 'node:path';
import { TensorBoardTracker } from './tensorboard.ts';
import type { Tracker, TrackerName, WANDB_MODES } from './tracker.ts';
import { WandbTracker } from './wandb.ts';

export { TensorBoardTracker } from './tensorboard.ts';
export { TRACKER_NAMES, type Tracker, type TrackerName, WANDB_MODES } from './tracker.ts';
export { WANDB_FAILED, WandbTracker } from './wandb.ts';

export interface TrackerSettings {
  trackers: readonly TrackerName[];
  wandb_project: string;
  wandb_mode: (typeof WANDB_MODES)[number];
}

/**
 * Opens the configured trackers for a run folder; one that fails to start closes the others.
 * `resumeStep`: the checkpoint step a resumed run goes on from (0 for a new run).
 */
export async function openTrackers(
  s: TrackerSettings,
  runDir: string,
  { config, resumeStep = 0 }: { config?: unknown; resumeStep?: number } = {},
): Promise<Tracker[]> {
  const out: Tracker[] = [];
  try {
    for (const name of new Set(s.trackers)) {
      if (name === 'tensorboard') out.push(new TensorBoardTracker(runDir, resumeStep));
      else
        out.push(
          await WandbTracker.start({
            project: s.wandb_project,
            name: basename(runDir),
            dir: runDir,
            mode: s.wandb_mode,
            config,
          }),
        );
    }
  } catch (err) {
    await Promise.allSettled(out.map((t) => t.close()));
    throw err;
  }
  return out;
}
