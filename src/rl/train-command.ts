// What `simplerl train` runs: the resolved config and the run folder, fresh or resumed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withAbsolutePaths } from '../config/absolute-paths.ts';
import {
  ConfigError,
  checkRunInputs,
  configToYaml,
  loadConfig,
  type ResolvedConfig,
  resolveConfig,
} from '../config/index.ts';
import { EngineDiedError } from '../engine/errors.ts';
import { defaultRunName, findLatestCheckpoint, runPaths, writeFileAtomic } from '../run/index.ts';

export const TRAIN_USAGE_ERROR = 'train';

export interface TrainCommandOptions {
  configFile?: string;
  sets?: string[];
  name?: string;
  resume?: string;
}

export interface PreparedRun {
  config: ResolvedConfig;
  runDir: string;
  resume: boolean;
  /** The config file errors should name. */
  configFile: string;
  /** Things the user should know before the run goes on (printed on stderr by the command). */
  warnings: string[];
}

export const SCHEDULE_CHANGES_ON_RESUME = 'the learning-rate schedule changes';

/** Keys that may differ between a run's config.yaml and the CONFIG given again with --resume. */
const MAY_CHANGE_ON_RESUME = [
  'run.name',
  'run.dir',
  'run.max_steps',
  'run.save_every',
  'run.keep_checkpoints',
  'run.log_rollouts',
  'run.progress',
  'engine.',
  'eval.',
  'reward.threads',
  'data.val',
];

/**
 * Keys a `--set` on `--resume` may not change: the training prompts, their order and the roles held in the
 * checkpoints depend on them (the resume would be refused later, or silently be another run).
 */
const FIXED_ON_RESUME = [
  'data.train',
  'data.fields.',
  'data.levels',
  'data.subjects',
  'data.dedup',
  'data.max_problems',
  'model.',
  'run.seed',
  'rollout.max_prompt_tokens',
  'algo.name',
];

export const FIXED_ON_RESUME_ERROR = 'cannot change on --resume';

export function prepareTrainRun(opts: TrainCommandOptions): PreparedRun {
  const sets = opts.sets ?? [];
  if (opts.resume !== undefined) {
    const runDir = opts.resume;
    const paths = runPaths(runDir);
    if (!existsSync(paths.config)) {
      throw new Error(`${TRAIN_USAGE_ERROR}: --resume ${runDir}: no config.yaml there (not a run folder)`);
    }
    // a path given by --set is relative to this command's directory, as on a fresh run
    const config = withAbsolutePaths(resolveConfig(loadConfig(paths.config, { sets }), paths.config));
    const warnings: string[] = [];
    if (sets.length > 0) {
      // Warm-up and cosine decay span the whole run: a new length re-times them from the resumed step on.
      const own = withAbsolutePaths(resolveConfig(loadConfig(paths.config), paths.config));
      const length = diffKeys(own.run, config.run).filter((k) => k === 'max_steps' || k === 'episodes');
      const scheduled = config.optim.schedule !== 'constant' || config.optim.warmup_ratio > 0;
      if (length.length > 0 && scheduled) {
        const change = length
          .map((k) => `run.${k} ${JSON.stringify(own.run[k])} → ${JSON.stringify(config.run[k])}`)
          .join(', ');
        warnings.push(
          `simplerl: warning: ${change}: ${SCHEDULE_CHANGES_ON_RESUME} (warm-up and ${config.optim.schedule} ` +
            'decay are spread over the new length), so the learning rate jumps at the resumed step',
        );
      }
    }
    if (opts.configFile !== undefined) {
      const given = withAbsolutePaths(resolveConfig(loadConfig(opts.configFile, { sets }), opts.configFile));
      const diff = diffKeys(config, given).filter(
        (k) => !MAY_CHANGE_ON_RESUME.some((p) => k === p || (p.endsWith('.') && k.startsWith(p))),
      );
      if (diff.length > 0) {
        throw new ConfigError(
          `${opts.configFile} differs from ${paths.config} in ${diff.join(', ')}: a resumed run keeps its own config. ` +
            `Fix: drop CONFIG (simplerl train --resume ${runDir}) or start a new run.`,
          opts.configFile,
        );
      }
    }
    if (sets.length > 0) {
      const own = withAbsolutePaths(resolveConfig(loadConfig(paths.config), paths.config));
      const fixed = diffKeys(own, config).filter((k) =>
        FIXED_ON_RESUME.some((p) => k === p || (p.endsWith('.') && k.startsWith(p))),
      );
      if (fixed.length > 0) {
        throw new ConfigError(
          `--set ${fixed.join(', ')}: ${FIXED_ON_RESUME_ERROR} ${runDir} (the training prompts, their order and ` +
            'the checkpointed roles depend on it). Fix: start a new run, e.g. simplerl train CONFIG --set ...',
          paths.config,
        );
      }
    }
    // Checked before config.yaml is rewritten: a bad --set must not leave a run that no longer resumes.
    checkRunInputs(config, paths.config);
    if (sets.length > 0)
      writeFileAtomic(
        paths.config,
        configToYaml(config, `resolved config of run ${runDir} (resumed with --set ${sets.join(' --set ')})`),
      );
    return { config, runDir, resume: true, configFile: paths.config, warnings };
  }
  if (opts.configFile === undefined) {
    throw new Error(`${TRAIN_USAGE_ERROR}: give a CONFIG file (e.g. configs/zero.yaml) or --resume RUN_DIR`);
  }
  const withName = opts.name !== undefined ? [...sets, `run.name=${opts.name}`] : sets;
  const loaded = loadConfig(opts.configFile, { sets: withName });
  const name = loaded.run.name ?? defaultRunName(opts.configFile);
  // absolute input paths in the run's config.yaml: --resume then works from any directory
  const config = withAbsolutePaths(
    resolveConfig({ ...loaded, run: { ...loaded.run, name } }, opts.configFile),
  );
  checkRunInputs(config, opts.configFile);
  return {
    config,
    runDir: join(config.run.dir, name),
    resume: false,
    configFile: opts.configFile,
    warnings: [],
  };
}

export const RESUME_HINT = 'to continue from it once the cause is fixed';

/**
 * The error of a run whose engine died or hung, plus how to go on when the run has a checkpoint (the
 * trainer's error only says what happened to the engine). Any other error is returned as it is.
 */
export function withResumeHint(err: unknown, runDir: string): unknown {
  if (!(err instanceof EngineDiedError)) return err;
  const latest = findLatestCheckpoint(runDir);
  if (latest === null) return err;
  return new Error(
    `${err.message}\nThe last complete checkpoint of the run is ${latest.dir} (step ${latest.step}); ` +
      `${RESUME_HINT}: simplerl train --resume ${runDir}`,
    { cause: err },
  );
}

function flatten(obj: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(obj));
  }
  return out;
}

function diffKeys(a: unknown, b: unknown): string[] {
  const fa = flatten(a, '', new Map());
  const fb = flatten(b, '', new Map());
  const keys = new Set([...fa.keys(), ...fb.keys()]);
  return [...keys].filter((k) => fa.get(k) !== fb.get(k)).sort();
}
