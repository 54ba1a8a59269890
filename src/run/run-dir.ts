// The run folder shared by the trainer, eval, analysis, dashboard and demo (CONTRIBUTING.md "Run layout").
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

export const RUN_DIR_ERROR = 'run directory';

export interface RunPaths {
  root: string;
  config: string;
  metrics: string;
  rollouts: string;
  checkpoints: string;
  eval: string;
}

export function runPaths(root: string): RunPaths {
  return {
    root,
    config: join(root, 'config.yaml'),
    metrics: join(root, 'metrics.jsonl'),
    rollouts: join(root, 'rollouts'),
    checkpoints: join(root, 'checkpoints'),
    eval: join(root, 'eval'),
  };
}

/** A run name from the config file name and a UTC time stamp: `zero-20260125-093812`. */
export function defaultRunName(configFile: string, now = new Date()): string {
  const base = (configFile.split('/').pop() ?? 'run')
    .replace(/\.ya?ml$/, '')
    .replace(/[^A-Za-z0-9._-]/g, '_');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${base || 'run'}-${stamp}`;
}

/**
 * Creates a fresh run folder with its resolved config. Refuses a folder that already holds a run
 * (metrics or checkpoints): continue it with `--resume`, or pick another name.
 */
export function createRunDir(root: string, configYaml: string): RunPaths {
  const paths = runPaths(root);
  const hasMetrics = existsSync(paths.metrics) && statSync(paths.metrics).size > 0;
  const hasCheckpoints = existsSync(paths.checkpoints) && readdirSync(paths.checkpoints).length > 0;
  if (hasMetrics || hasCheckpoints) {
    throw new Error(
      `${RUN_DIR_ERROR}: ${root} already holds a run. Fix: --resume ${root} to continue it, or --name NEW_NAME`,
    );
  }
  mkdirSync(paths.rollouts, { recursive: true });
  mkdirSync(paths.checkpoints, { recursive: true });
  writeFileAtomic(paths.config, configYaml);
  return paths;
}

/** Name of a step's rollouts file (`rolloutsFile`); group 1 is the step. */
export const ROLLOUTS_FILE_NAME = /^step-(\d+)\.jsonl$/;

export function rolloutsFile(paths: RunPaths, step: number): string {
  return join(paths.rollouts, `step-${String(step).padStart(6, '0')}.jsonl`);
}

/** One sampled rollout line of rollouts/step-NNNNNN.jsonl. */
export interface RolloutRow {
  step: number;
  prompt_id: string;
  prompt: string;
  response: string;
  gold: string;
  extracted: string | null;
  correct: boolean;
  reward: number;
  finished: boolean;
  num_tokens: number;
}

export function writeRollouts(paths: RunPaths, step: number, rows: RolloutRow[]): void {
  writeFileAtomic(rolloutsFile(paths, step), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** Removes rollout files of steps after `maxStep` (a resumed run writes them again). */
export function truncateRollouts(paths: RunPaths, maxStep: number): number {
  if (!existsSync(paths.rollouts)) return 0;
  let n = 0;
  for (const f of readdirSync(paths.rollouts)) {
    const m = /^step-(\d+)\.jsonl/.exec(f);
    if ((m !== null && Number(m[1]) > maxStep) || f.includes('.tmp-')) {
      rmSync(join(paths.rollouts, f), { force: true });
      n++;
    }
  }
  return n;
}
