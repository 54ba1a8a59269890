export { fsyncDir, writeFileAtomic } from './atomic.ts';
export {
  CHECKPOINT_ERROR,
  type CheckpointInfo,
  type ControllerState,
  checkCheckpointFolder,
  checkpointName,
  cleanCheckpoints,
  DAMAGED_SUFFIX,
  findLatestCheckpoint,
  findVerifiedCheckpoint,
  pruneCheckpoints,
  SKIPPED_CHECKPOINT,
  setLatest,
  writeCheckpoint,
} from './checkpoints.ts';
export { MANIFEST_FILE, sha256File, verifyManifest, writeManifest } from './manifest.ts';
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
