// `simplerl train CONFIG [--set k=v ...] [--name NAME]` and `simplerl train [CONFIG] --resume RUN_DIR`.
import type { Command } from 'commander';
import { collect } from '../options.ts';

/** Exit code of a run stopped by SIGINT (after its checkpoint): 128 + SIGINT, as shells do. */
export const EXIT_INTERRUPTED = 130;
/** Exit code of a run stopped by SIGTERM (after its checkpoint): 128 + SIGTERM. */
export const EXIT_TERMINATED = 143;

function exitCodeOf(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
}

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'train a model with RL from a rule reward (PPO with a critic, or GRPO). Writes runs/<name>/: config.yaml, ' +
        'metrics.jsonl, rollouts/, checkpoints/. Example: simplerl train configs/zero.yaml --set model.path=DIR',
    )
    .argument('[config]', 'YAML config (e.g. configs/zero.yaml); optional with --resume')
    .option(
      '--set <key=value>',
      'override one config key, typed by the schema (repeatable; a key set twice: the last wins), e.g. --set algo.kl.coef=0.001',
      collect,
      [],
    )
    .option('--name <name>', 'run name: the run folder is <run.dir>/<name> (default: config name + UTC time)')
    .option('--nproc <n>', 'engine ranks per node under torchrun (same as --set engine.nproc=N)')
    .option(
      '--resume <run_dir>',
      "continue a run from its last complete checkpoint, with the run's own config.yaml",
    )
    .option(
      '--help-config [section]',
      'list every config key with its type, default and help (optionally one section)',
    )
    .addHelpText(
      'after',
      '\nEvery config key, its default and its meaning: simplerl train --help-config [section]',
    )
    .action(
      async (
        configFile: string | undefined,
        opts: {
          set: string[];
          name?: string;
          nproc?: string;
          resume?: string;
          helpConfig?: string | boolean;
        },
      ) => {
        const { formatConfigHelp } = await import('../../config/index.ts');
        if (opts.helpConfig !== undefined) {
          process.stdout.write(
            `${formatConfigHelp(typeof opts.helpConfig === 'string' ? opts.helpConfig : undefined)}\n`,
          );
          return;
        }
        const { prepareTrainRun, withResumeHint } = await import('../../rl/train-command.ts');
        const sets = opts.nproc === undefined ? opts.set : [...opts.set, `engine.nproc=${opts.nproc}`];
        const run = prepareTrainRun({ configFile, sets, name: opts.name, resume: opts.resume });
        for (const w of run.warnings) process.stderr.write(`${w}\n`);
        const { runTraining } = await import('../../rl/trainer.ts');
        const controller = new AbortController();
        let firstSignal: NodeJS.Signals | null = null;
        const onSignal = (sig: NodeJS.Signals) => {
          if (firstSignal === null) {
            firstSignal = sig;
            process.stderr.write(
              `\nsimplerl: ${sig}: stopping after this step and writing a checkpoint (again to quit now)\n`,
            );
            controller.abort();
          } else {
            process.stderr.write(
              `\nsimplerl: ${sig} again: quitting now, without a checkpoint of this step\n`,
            );
            process.exit(exitCodeOf(sig));
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const result = await runTraining(run.config, {
            runDir: run.runDir,
            resume: run.resume,
            configFile: run.configFile,
            signal: controller.signal,
          });
          process.stdout.write(
            `${JSON.stringify({ run_dir: result.runDir, step: result.step, total_steps: result.totalSteps, checkpoint: result.lastCheckpoint?.dir ?? null, aborted: result.aborted })}\n`,
          );
          // Stopped by a signal before the last step: not a success (`train && eval` must not go on).
          if (result.aborted) process.exitCode = exitCodeOf(firstSignal ?? 'SIGINT');
        } catch (err) {
          throw withResumeHint(err, run.runDir);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
}
