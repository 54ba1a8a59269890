// checkpoints/step-NNNNNN/ {policy/, critic/, controller.json, manifest.json} written under a temporary
// name and renamed when complete; checkpoints/LATEST names the last complete one (written atomically).
// manifest.json (size + sha256 of every file) is written last; a resume verifies it (manifest.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './atomic.ts';
import { MANIFEST_FILE, verifyManifest, writeManifest } from './manifest.ts';

export const CHECKPOINT_ERROR = 'bad checkpoint';

/** What the controller needs to continue a run exactly (the engine keeps its own state in optimizer.pt). */
export interface ControllerState {
  version: 1;
  /** Last completed step (the run continues with step + 1). */
  step: number;
  /** Optimiser steps taken so far by the policy (the critic takes the same number). */
  num_optimizer_steps: number;
  /** Opaque state of the prompt sampler (data order and position). */
  sampler: unknown;
  /** Controller randomness: every draw is a hash of (seed, step, index), so the seed is the whole state. */
  rng: { seed: number; scheme: 'hash32-v1' };
  /** KL controller state (coefficient and what adaptive control needs). */
  kl: unknown;
  /** Ids of the training problems in loader order: a resume checks the data did not change. */
  problems: { count: number; fingerprint: string };
  time: string;
}

export interface CheckpointInfo {
  name: string;
  dir: string;
  step: number;
  controller: ControllerState;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

const NAME_RE = /^step-(\d{6,})$/;

/**
 * Writes a checkpoint atomically. `writeWeights(dir)` saves the engine roles into `dir` (e.g.
 * `dir/policy`, `dir/critic`); then controller.json and, last, manifest.json are written, the folder renamed to its final name
 * and LATEST updated. A kill at any point leaves the previous checkpoint as LATEST.
 */
export async function writeCheckpoint(
  checkpointsDir: string,
  state: ControllerState,
  writeWeights: (dir: string) => Promise<void>,
): Promise<CheckpointInfo> {
  mkdirSync(checkpointsDir, { recursive: true });
  const name = checkpointName(state.step);
  const final = join(checkpointsDir, name);
  const tmp = join(checkpointsDir, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  await writeWeights(tmp);
  writeFileAtomic(join(tmp, 'controller.json'), `${JSON.stringify(state, null, 2)}\n`);
  await writeManifest(tmp);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(checkpointsDir);
  writeFileAtomic(join(checkpointsDir, 'LATEST'), `${name}\n`);
  return { name, dir: final, step: state.step, controller: state };
}

function readCheckpoint(checkpointsDir: string, name: string): CheckpointInfo | null {
  const m = NAME_RE.exec(name);
  const dir = join(checkpointsDir, name);
  if (m === null || !existsSync(join(dir, 'controller.json'))) return null;
  try {
    const controller = JSON.parse(readFileSync(join(dir, 'controller.json'), 'utf8')) as ControllerState;
    if (controller.step !== Number(m[1])) return null;
    return { name, dir, step: controller.step, controller };
  } catch {
    return null;
  }
}

/**
 * The last complete checkpoint of a run: the one LATEST names, else (LATEST missing or broken) the
 * highest complete step folder. null when the run has none.
 */
export function findLatestCheckpoint(runDir: string): CheckpointInfo | null {
  const checkpointsDir = join(runDir, 'checkpoints');
  if (!existsSync(checkpointsDir)) return null;
  const latestFile = join(checkpointsDir, 'LATEST');
  if (existsSync(latestFile)) {
    const info = readCheckpoint(checkpointsDir, readFileSync(latestFile, 'utf8').trim());
    if (info !== null) return info;
  }
  const names = readdirSync(checkpointsDir)
    .filter((n) => NAME_RE.test(n))
    .sort()
    .reverse();
  for (const n of names) {
    const info = readCheckpoint(checkpointsDir, n);
    if (info !== null) return info;
  }
  return null;
}

/** Checkpoints of a run, newest first: the one LATEST names, then every complete step folder by step. */
function candidateCheckpoints(runDir: string): CheckpointInfo[] {
  const checkpointsDir = join(runDir, 'checkpoints');
  if (!existsSync(checkpointsDir)) return [];
  const names = readdirSync(checkpointsDir)
    .filter((n) => NAME_RE.test(n))
    .sort()
    .reverse();
  const latest = findLatestCheckpoint(runDir);
  const ordered = latest === null ? names : [latest.name, ...names.filter((n) => n !== latest.name)];
  return ordered.map((n) => readCheckpoint(checkpointsDir, n)).filter((c) => c !== null);
}

/** Start of the line a resume prints for each checkpoint it skips. */
export const SKIPPED_CHECKPOINT = 'skipping checkpoint';
/** Suffix of a damaged checkpoint folder moved aside by a resume (kept for inspection, never loaded). */
export const DAMAGED_SUFFIX = '.damaged';

/**
 * The newest checkpoint of a run that verifies against its manifest.json. A damaged one is reported
 * with the bad file's path, renamed to `<name>.damaged` and skipped: the run falls back to the previous
 * complete checkpoint (LATEST is rewritten to name it). A checkpoint without a manifest (written before
 * manifests existed) is accepted with a warning. null when the run has no checkpoint; throws when it
 * has some but none verifies.
 */
export async function findVerifiedCheckpoint(
  runDir: string,
  log: (line: string) => void,
): Promise<CheckpointInfo | null> {
  const skipped: string[] = [];
  for (const info of candidateCheckpoints(runDir)) {
    const problem = await verifyManifest(info.dir);
    if (problem === null) {
      if (skipped.length > 0) writeFileAtomic(join(runDir, 'checkpoints', 'LATEST'), `${info.name}\n`);
      return info;
    }
    if (problem.kind === 'missing-manifest') {
      log(`simplerl: warning: ${info.dir} has no manifest.json (written by an older simplerl): not verified`);
      return info;
    }
    const aside = `${info.dir}${DAMAGED_SUFFIX}`;
    rmSync(aside, { recursive: true, force: true });
    renameSync(info.dir, aside);
    log(
      `simplerl: ${SKIPPED_CHECKPOINT} ${info.name}: ${problem.message}; moved it to ${aside}, ` +
        'falling back to the previous checkpoint',
    );
    skipped.push(info.name);
  }
  if (skipped.length > 0) {
    throw new Error(
      `${CHECKPOINT_ERROR}: no checkpoint of ${runDir} verifies (${skipped.join(', ')} damaged); ` +
        'start a new run (training on from damaged state is refused)',
    );
  }
  return null;
}

/**
 * Refuses a model folder that lies in a damaged run checkpoint (`…/step-N` or `…/step-N/policy`), naming
 * the bad file, so eval, serve and export never read a corrupt checkpoint. Read-only: unlike a resume,
 * nothing is moved aside. A folder outside a run, or a checkpoint written before manifests, passes.
 */
export async function checkCheckpointFolder(modelDir: string): Promise<void> {
  const step = [modelDir, dirname(modelDir)].find(
    (d) => NAME_RE.test(basename(d)) && existsSync(join(d, MANIFEST_FILE)),
  );
  if (step === undefined) return;
  const problem = await verifyManifest(step);
  if (problem?.kind === 'damaged') throw new Error(`${CHECKPOINT_ERROR}: ${problem.message}`);
}

/** Removes temporary folders and checkpoints newer than `keepStep` (left by a killed run). */
export function cleanCheckpoints(checkpointsDir: string, keepStep: number): string[] {
  if (!existsSync(checkpointsDir)) return [];
  const removed: string[] = [];
  for (const n of readdirSync(checkpointsDir)) {
    const m = NAME_RE.exec(n);
    if (n.includes('.tmp-') || (m !== null && Number(m[1]) > keepStep)) {
      rmSync(join(checkpointsDir, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}

/**
 * Deletes all but the last `keep` complete checkpoints (never the one LATEST names). The schema's
 * minimum of 2 leaves a resume one verified checkpoint to fall back to when the newest is damaged.
 */
export function pruneCheckpoints(checkpointsDir: string, keep: number): string[] {
  const latest = findLatestCheckpoint(join(checkpointsDir, '..'));
  const names = readdirSync(checkpointsDir)
    .filter((n) => NAME_RE.test(n))
    .sort();
  const removed: string[] = [];
  for (const n of names.slice(0, Math.max(0, names.length - keep))) {
    if (n === latest?.name) continue;
    rmSync(join(checkpointsDir, n), { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

/** Test helper and last resort: marks a checkpoint as LATEST (atomically). */
export function setLatest(checkpointsDir: string, name: string): void {
  if (!existsSync(join(checkpointsDir, name, 'controller.json'))) {
    throw new Error(`${CHECKPOINT_ERROR}: ${join(checkpointsDir, name)} has no controller.json`);
  }
  writeFileAtomic(join(checkpointsDir, 'LATEST'), `${name}\n`);
}
