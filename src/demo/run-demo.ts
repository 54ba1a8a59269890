/**
 * `simplerl demo`: the SimpleRL-Zero story on 2 CPU cores.
 *
 *   threads  ← the cores actually free (src/engine/threads.ts)
 *   data     ← procedural train / test / hard problems (tasks.ts)
 *   base     ← the tiny Qwen2, pre-trained through the engine on the imperfect corpus, cached (base-model.ts)
 *   before   ← greedy and sampled evaluation of the base on test and hard (evaluate.ts)
 *   RL       ← runTraining (src/rl/trainer.ts) with configs/demo.yaml: the one training loop
 *   after    ← the same evaluation of the trained policy, still in the engine
 *   outputs  ← before/after table, demo.json, eval/<label>/, curves.jsonl, plots.png, plots.html
 */

import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { loadConfig, type ResolvedConfig, resolveConfig } from '../config/index.ts';
import { EngineClient } from '../engine/index.ts';
import { pickThreads, type ThreadChoice } from '../engine/threads.ts';

import { type DemoAlgoName, RECIPE_NAMES } from '../rl/names.ts';
import { createGrader } from '../rl/reward.ts';
import { runTraining } from '../rl/trainer.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import {
  type BaseModelSpec,
  baseModelDir,
  DEFAULT_BASE_SPEC,
  ensureBaseModel,
  type PretrainReport,
} from './base-model.ts';
import { type DecodeMode, type EvalSummary, evaluateSplit } from './evaluate.ts';
import { type Panel, renderHtml, renderPanelsPng } from './plots.ts';
import { synthTasks, type TaskRecord, toRecord } from './tasks.ts';

export const DEMO_CONFIG = join(import.meta.dirname, '..', '..', 'configs', 'demo.yaml');
export const DEMO_MARKER = '.simplerl-demo';
export const DEMO_ERROR = 'demo';
/** The eval sets are drawn with one fixed seed, so every demo seed is measured on the same problems. */
const EVAL_DATA_SEED = 0;

export interface DemoOptions {
  out: string;
  seed: number;
  /** An algorithm (ppo, grpo: algo.name) or a recipe (dr-grpo, dapo, gspo: algo.recipe); default configs/demo.yaml. */
  algo?: DemoAlgoName;
  /** RL steps; default the config's run.max_steps */
  steps?: number;
  configPath?: string;
  /** `key=value` overrides of the RL config */
  sets?: string[];
  threads?: number;
  /** overrides of the base model's spec (size, corpus, pre-training schedule); the seed is the demo's */
  base?: Partial<BaseModelSpec>;
  /** where the base model cache lives (`<runsDir>/.demo-cache`); default the parent of `out` */
  runsDir?: string;
  /** shipped base models to look in first (default assets/demo-bases; null: none) */
  shippedDir?: string | null;
  /** pre-train the base model even when a shipped or cached one matches */
  isFreshBase?: boolean;
  numTrain?: number;
  numTest?: number;
  numHard?: number;
  /** status lines (default: stderr) */
  log?: (line: string) => void;
  /** progress bars on stderr */
  progress?: boolean;
}

export interface CurvePoint {
  step: number;
  reward: number;
  acc: number;
  responseLen: number;
  selfCheckRate: number;
  accWithCheck: number;
  accWithoutCheck: number;
  stepSeconds: number;
}

export interface DemoResult {
  out: string;
  algo: string;
  seed: number;
  threads: ThreadChoice;
  pretrain: PretrainReport;
  before: EvalSummary[];
  after: EvalSummary[];
  curves: CurvePoint[];
  /** wall seconds per phase */
  times: Record<'pretrain' | 'evalBefore' | 'rl' | 'evalAfter' | 'total', number>;
  steps: number;
}

const EVALS: [string, DecodeMode][] = [
  ['test', 'greedy'],
  ['test', 'sampled'],
  ['hard', 'greedy'],
  ['hard', 'sampled'],
];

async function prepareOut(out: string): Promise<void> {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!existsSync(join(out, DEMO_MARKER))) {
      throw new Error(`${DEMO_ERROR}: ${out} exists and is not a demo folder; choose another --out`);
    }
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, DEMO_MARKER),
    'written by `simplerl demo`; the next demo with this --out replaces this folder\n',
  );
}

async function writeJsonl(path: string, rows: object[]): Promise<void> {
  await writeFile(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** `--algo NAME` as a --set: algo.name for ppo / grpo, algo.recipe for a recipe. */
export function demoAlgoSet(algo: DemoAlgoName): string {
  return (RECIPE_NAMES as readonly string[]).includes(algo) ? `algo.recipe=${algo}` : `algo.name=${algo}`;
}

export function demoConfig(opts: DemoOptions, modelPath: string, trainFile: string): ResolvedConfig {
  const file = opts.configPath ?? DEMO_CONFIG;
  const sets = [
    `model.path=${modelPath}`,
    `data.train=${trainFile}`,
    `run.seed=${opts.seed}`,
    ...(opts.algo ? [demoAlgoSet(opts.algo)] : []),
    ...(opts.steps !== undefined ? [`run.max_steps=${opts.steps}`] : []),
    ...(opts.progress === false ? ['run.progress=false'] : []),
    ...(opts.sets ?? []),
  ];
  return resolveConfig(loadConfig(file, { sets }), file);
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const tStart = performance.now();
  const out = opts.out;
  const runsDir = opts.runsDir ?? join(out, '..');
  const threads = await pickThreads(opts.threads);
  log(`simplerl demo: ${threads.message}`);
  await prepareOut(out);

  // data: the eval sets are the same for every seed; the RL prompts follow the seed
  const dataDir = join(out, 'data');
  await mkdir(dataDir, { recursive: true });
  const train = synthTasks({ split: 'train', count: opts.numTrain ?? 8000, seed: opts.seed }).map(toRecord);
  const evalSets: Record<string, TaskRecord[]> = {
    test: synthTasks({ split: 'test', count: opts.numTest ?? 500, seed: EVAL_DATA_SEED }).map(toRecord),
    hard: synthTasks({ split: 'hard', count: opts.numHard ?? 500, seed: EVAL_DATA_SEED }).map(toRecord),
  };
  const trainFile = join(dataDir, 'train.jsonl');
  await writeJsonl(trainFile, train);
  for (const [name, tasks] of Object.entries(evalSets))
    await writeJsonl(join(dataDir, `${name}.jsonl`), tasks);
  // fail on a bad --set before minutes of pre-training
  demoConfig(opts, dataDir, trainFile);

  const engine = await EngineClient.start({ device: 'cpu', threads: threads.threads });
  try {
    const hello = await engine.hello();
    const spec: BaseModelSpec = { ...DEFAULT_BASE_SPEC, ...opts.base, seed: opts.seed };

    // base model (cached)
    const tPre = performance.now();
    const bar =
      opts.progress === false
        ? null
        : new cliProgress.SingleBar(
            {
              format: 'pre-train |{bar}| step {value}/{total} | loss {loss} | eta {eta_formatted}',
              stream: process.stderr,
              noTTYOutput: true,
              notTTYSchedule: 5000,
              barsize: 20,
            },
            cliProgress.Presets.shades_classic,
          );
    let isBarStarted = false;
    const pretrain = await ensureBaseModel({
      spec,
      runsDir,
      engine,
      hello,
      ...(opts.shippedDir !== undefined ? { shippedDir: opts.shippedDir } : {}),
      ...(opts.isFreshBase ? { isFresh: true } : {}),
      onStep: (step, loss) => {
        if (!bar) return;
        if (!isBarStarted) {
          bar.start(spec.steps, 0, { loss: '-' });
          isBarStarted = true;
        }
        bar.update(step, { loss: loss.toFixed(3) });
      },
    });
    if (isBarStarted) bar?.stop();
    const tPreDone = performance.now();
    log(
      pretrain.source !== 'pretrained'
        ? `simplerl demo: base model from the ${pretrain.source === 'shipped' ? 'repository' : 'cache'}: ${pretrain.path}`
        : `simplerl demo: pre-trained the base model (${pretrain.numParams} parameters, ${pretrain.numTokens} tokens, ` +
            `${pretrain.seconds.toFixed(0)} s, ${pretrain.tokensPerSecond.toFixed(0)} tokens/s, loss ` +
            `${pretrain.firstLoss.toFixed(3)} → ${pretrain.lastLoss.toFixed(3)}) into ${pretrain.path}`,
    );

    const modelPath = baseModelDir(pretrain);
    const cfg = demoConfig(opts, modelPath, trainFile);
    const tok = await TextTokenizer.fromDir(modelPath);
    const grader = await createGrader(cfg);
    const evalSettings = {
      template: cfg.model.prompt_template,
      maxNewTokens: cfg.rollout.max_new_tokens,
      stopIds: tok.eosTokenIds,
      seed: opts.seed,
    };
    const evaluateAll = async (label: string): Promise<EvalSummary[]> => {
      const summaries: EvalSummary[] = [];
      for (const [split, mode] of EVALS) {
        const { summary, rows } = await evaluateSplit(
          engine,
          tok,
          grader,
          split,
          evalSets[split]!,
          mode,
          evalSettings,
        );
        const dir = join(out, 'eval', `${label}-${split}-${mode}`);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
        await writeJsonl(join(dir, 'per_problem.jsonl'), rows);
        summaries.push(summary);
        log(
          `simplerl demo: ${label} ${split} ${mode}: acc ${pct(summary.acc)}, self-check ${pct(summary.selfCheckRate)}, ` +
            `len ${summary.meanLen.toFixed(1)} (${summary.seconds.toFixed(1)} s)`,
        );
      }
      return summaries;
    };

    let before: EvalSummary[];
    let after: EvalSummary[];
    const curves: CurvePoint[] = [];
    let tEvalBefore: number;
    let tRl: number;
    let result: Awaited<ReturnType<typeof runTraining>>;
    try {
      await engine.load({ role: 'policy', path: modelPath, dtype: 'float32' });
      before = await evaluateAll('base');
      tEvalBefore = performance.now();

      result = await runTraining(cfg, {
        engine,
        runDir: out,
        log,
        onStep: (m) => {
          // a metric left out of the row (no response with / without a check) reads as NaN: a gap in the plot
          curves.push({
            step: Number(m.step),
            reward: Number(m['reward/mean']),
            acc: Number(m['acc/train']),
            responseLen: Number(m['response_len/mean']),
            selfCheckRate: Number(m['reflection/rate']),
            accWithCheck: Number(m['reflection/acc_with'] ?? Number.NaN),
            accWithoutCheck: Number(m['reflection/acc_without'] ?? Number.NaN),
            stepSeconds: Number(m['time/step_s']),
          });
        },
      });
      tRl = performance.now();
      after = await evaluateAll('rl');
    } finally {
      await grader.close();
    }
    const tEnd = performance.now();
    const demo: DemoResult = {
      out,
      algo: cfg.algo.recipe ?? cfg.algo.name,
      seed: opts.seed,
      threads,
      pretrain,
      before,
      after,
      curves,
      steps: result.step,
      times: {
        pretrain: (tPreDone - tPre) / 1000,
        evalBefore: (tEvalBefore - tPreDone) / 1000,
        rl: (tRl - tEvalBefore) / 1000,
        evalAfter: (tEnd - tRl) / 1000,
        total: (tEnd - tStart) / 1000,
      },
    };
    await writeOutputs(demo);
    return demo;
  } finally {
    await engine.shutdown().catch(() => {});
  }
}

export function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-';
}

/** The before/after table (markdown, also fine on a terminal). */
export function formatTable(demo: Pick<DemoResult, 'before' | 'after'>): string {
  const lines = [
    '| split | decoding | accuracy | format rate | mean length (tokens) | self-check rate |',
    '|---|---|---|---|---|---|',
  ];
  demo.before.forEach((b, i) => {
    const a = demo.after[i]!;
    const arrow = (x: string, y: string) => `${x} → ${y}`;
    lines.push(
      `| ${b.split} | ${b.mode === 'greedy' ? 'greedy' : 'sampled T=1'} | ${arrow(pct(b.acc), pct(a.acc))} | ` +
        `${arrow(pct(b.formatRate), pct(a.formatRate))} | ${arrow(b.meanLen.toFixed(1), a.meanLen.toFixed(1))} | ` +
        `${arrow(pct(b.selfCheckRate), pct(a.selfCheckRate))} |`,
    );
  });
  return lines.join('\n');
}

/** Trailing mean over `window` steps, skipping non-finite values (per-step values of 128 samples are noisy). */
export function smooth(values: number[], window: number): number[] {
  return values.map((_, i) => {
    const xs = values.slice(Math.max(0, i - window + 1), i + 1).filter(Number.isFinite);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
  });
}

export const SMOOTH_STEPS = 10;

export function curvePanels(curves: CurvePoint[]): Panel[] {
  const pts = (f: (c: CurvePoint) => number): [number, number][] => {
    const ys = smooth(curves.map(f), SMOOTH_STEPS);
    return curves.map((c, i) => [c.step, ys[i]!]);
  };
  const tail = ` (${SMOOTH_STEPS}-step mean)`;
  return [
    { title: `reward${tail}`, curves: [{ label: 'train, T=1', points: pts((c) => c.reward) }] },
    {
      title: `accuracy${tail}`,
      yRange: [0, 1],
      curves: [
        { label: 'all', points: pts((c) => c.acc) },
        { label: 'with self-check', points: pts((c) => c.accWithCheck) },
        { label: 'without', points: pts((c) => c.accWithoutCheck) },
      ],
    },
    {
      title: `response length, tokens${tail}`,
      curves: [{ label: 'train, T=1', points: pts((c) => c.responseLen) }],
    },
    {
      title: `self-check rate${tail}`,
      yRange: [0, 1],
      curves: [{ label: 'train, T=1', points: pts((c) => c.selfCheckRate) }],
    },
  ];
}

async function writeOutputs(demo: DemoResult): Promise<void> {
  const table = formatTable(demo);
  await writeFile(join(demo.out, 'demo.json'), `${JSON.stringify(demo, null, 2)}\n`);
  await writeJsonl(join(demo.out, 'curves.jsonl'), demo.curves);
  const panels = curvePanels(demo.curves);
  await writeFile(join(demo.out, 'plots.png'), renderPanelsPng(panels));
  const rows = table
    .split('\n')
    .filter((l) => !l.startsWith('|---'))
    .map((l, i) => {
      const cells = l.split('|').slice(1, -1);
      const tag = i === 0 ? 'th' : 'td';
      return `<tr>${cells.map((c) => `<${tag}>${c.trim().replace(/&/g, '&amp;').replace(/</g, '&lt;')}</${tag}>`).join('')}</tr>`;
    });
  const body =
    `<p>${demo.algo.toUpperCase()}, seed ${demo.seed}, ${demo.steps} RL steps; base model ${demo.pretrain.numParams} parameters. ` +
    `Wall time ${demo.times.total.toFixed(0)} s (pre-train ${demo.times.pretrain.toFixed(0)} s, RL ${demo.times.rl.toFixed(0)} s). ` +
    `${demo.threads.message}</p><table>${rows.join('')}</table>`;
  await writeFile(
    join(demo.out, 'plots.html'),
    renderHtml('simplerl demo: Zero RL on a tiny model', panels, body),
  );
}
