// checkpoints/step-NNNNNN/ {policy/, critic/, controller.json} written under a temporary name and
// renamed when complete; checkpoints/LATEST names the last complete one (written atomically).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './atomic.ts';

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
 * `dir/policy`, `dir/critic`); then controller.json is written, the folder renamed to its final name
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

/** Deletes all but the last `keep` complete checkpoints (never the one LATEST names). */
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
