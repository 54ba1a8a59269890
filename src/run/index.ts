export { fsyncDir, writeFileAtomic } from './atomic.ts';
export {
  CHECKPOINT_ERROR,
  type CheckpointInfo,
  type ControllerState,
  checkpointName,
  cleanCheckpoints,
  findLatestCheckpoint,
  pruneCheckpoints,
  setLatest,
  writeCheckpoint,
} from './checkpoints.ts';
export { BAD_METRICS, type MetricsRow, MetricsWriter, readMetrics, truncateMetrics } from './metrics.ts';
export {
  createRunDir,
  defaultRunName,
  type RolloutRow,
  RUN_DIR_ERROR,
  type RunPaths,
  rolloutsFile,
  runPaths,
  truncateRollouts,
  writeRollouts,
} from './run-dir.ts';
