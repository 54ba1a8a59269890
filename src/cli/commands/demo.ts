import { type Command, InvalidArgumentError } from 'commander';
import { DEMO_ALGO_NAMES, type DemoAlgoName } from '../../rl/names.ts';
import { collect, parsePositiveInt } from '../options.ts';

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got ${text}`);
  return n;
}

interface DemoCliOptions {
  algo?: DemoAlgoName;
  seed: number;
  steps?: number;
  out: string;
  threads?: number;
  pretrainSteps?: number;
  evalProblems?: number;
  set: string[];
  progress: boolean;
  freshBase?: boolean;
}

/** `simplerl demo`: pre-train a tiny model on CPU, Zero-RL it, and show what changed. */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'the CPU demo: take the tiny Qwen2 base (shipped in assets/demo-bases, else pre-trained on an imperfect corpus ' +
        'and cached), evaluate it, run Zero RL with the ' +
        'original reward, evaluate again; prints a before/after table and writes plots into --out',
    )
    .option(
      '--algo <name>',
      `${DEMO_ALGO_NAMES.join(', ')}: ppo (with a critic, the original), grpo, or a recipe (algo.recipe); default: configs/demo.yaml (grpo)`,
      (v) => {
        if (!(DEMO_ALGO_NAMES as readonly string[]).includes(v))
          throw new InvalidArgumentError(`expected one of ${DEMO_ALGO_NAMES.join(', ')}, got ${v}`);
        return v as DemoAlgoName;
      },
    )
    .option('--seed <n>', 'seed of the base model, its corpus and the RL run', parseSeed, 0)
    .option('--steps <n>', 'RL steps (default: configs/demo.yaml, 200)', parsePositiveInt)
    .option('--out <dir>', 'output folder (replaced when it holds an earlier demo)', 'runs/demo')
    .option('--threads <n>', 'torch threads (default: the cores that are free now)', parsePositiveInt)
    .option('--pretrain-steps <n>', 'pre-training steps of the base model (default 4000)', parsePositiveInt)
    .option('--fresh-base', 'pre-train the base model even when a shipped or cached one matches')
    .option('--eval-problems <n>', 'problems per held-out split (default 500)', parsePositiveInt)
    .option('--set <key=value>', 'override a field of configs/demo.yaml (repeatable)', collect, [])
    .option('--no-progress', 'no progress bars')
    .action(async (opts: DemoCliOptions) => {
      const { runDemo, formatTable } = await import('../../demo/run-demo.ts');
      const demo = await runDemo({
        out: opts.out,
        seed: opts.seed,
        ...(opts.algo ? { algo: opts.algo } : {}),
        ...(opts.steps ? { steps: opts.steps } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.pretrainSteps ? { base: { steps: opts.pretrainSteps } } : {}),
        ...(opts.evalProblems ? { numTest: opts.evalProblems, numHard: opts.evalProblems } : {}),
        sets: opts.set,
        progress: opts.progress,
        ...(opts.freshBase ? { isFreshBase: true } : {}),
      });
      const t = demo.times;
      console.log(
        `\nsimplerl demo: ${demo.algo.toUpperCase()}, seed ${demo.seed}, ${demo.steps} RL steps, ` +
          `${demo.before[0]!.numProblems} test / ${demo.before[2]!.numProblems} hard problems\n`,
      );
      console.log(formatTable(demo));
      console.log(
        `\nwall time ${t.total.toFixed(0)} s: pre-train ${t.pretrain.toFixed(0)} s${demo.pretrain.source === 'pretrained' ? '' : ` (${demo.pretrain.source} base)`}, ` +
          `evaluations ${(t.evalBefore + t.evalAfter).toFixed(0)} s, RL ${t.rl.toFixed(0)} s; ${demo.threads.message}`,
      );
      console.log(
        `outputs: ${demo.out}/plots.png, ${demo.out}/plots.html, ${demo.out}/demo.json, ${demo.out}/metrics.jsonl`,
      );
    });
}
