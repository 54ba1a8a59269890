import type { MetricsRow } from '../metrics.ts';

/** Receives every metrics row as metrics.jsonl gets it (after the row is checked and written). */
export interface Tracker {
  log(row: MetricsRow): void;
  /** Flushes and ends; a tracker that failed says why here. */
  close(): Promise<void>;
}

/** Tracker names accepted by `run.trackers` (no imports here: the config schema reads them). */
export const TRACKER_NAMES = ['tensorboard', 'wandb'] as const;
export type TrackerName = (typeof TRACKER_NAMES)[number];

export const WANDB_MODES = ['offline', 'online'] as const;
