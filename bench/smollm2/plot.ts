// Plots of the SmolLM2 measurements (bench/smollm2/run.sh): per-step RL curves of each run (reward,
// boxed-format rate, response length) and the held-out evals before/after (accuracy, boxed rate, length),
// drawn with the demo's PNG renderer, plus a markdown table on stdout.
//   node --import tsx bench/smollm2/plot.ts OUT bench/smollm2/smollm2.png
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Curve, type Panel, renderPanelsPng } from '../../src/demo/plots.ts';
import { readMetrics } from '../../src/run/index.ts';

const RUNS = ['zero', 'warmup'];
const EVALS = ['base', 'zero', 'sft', 'warmup'];

interface EvalStats {
  accuracy: number;
  boxedRate: number;
  meanTokens: number;
  truncationRate: number;
  reflectionRate: number;
  count: number;
}

function evalStats(out: string, name: string): EvalStats | undefined {
  const file = join(out, `eval-${name}`, 'summary.json');
  if (!existsSync(file)) return undefined;
  const summary = JSON.parse(readFileSync(file, 'utf8')) as {
    benchmarks: Record<string, { scores: Record<string, number>; stats: Record<string, number> }>;
  };
  const b = Object.values(summary.benchmarks)[0];
  const s = b.stats;
  return {
    accuracy: b.scores['pass@1'],
    boxedRate: s.boxedRate,
    meanTokens: s.meanTokens,
    truncationRate: s.truncationRate,
    reflectionRate: s.reflectionRate,
    count: s.count,
  };
}

function runCurve(out: string, run: string, key: string): Curve {
  const { rows } = readMetrics(join(out, 'runs', run, 'metrics.jsonl'));
  return { label: run, points: rows.map((r) => [r.step, Number(r[key])] as [number, number]) };
}

function evalCurve(stats: (EvalStats | undefined)[], key: keyof EvalStats, label: string): Curve {
  const points = stats.flatMap((s, i) => (s ? [[i, s[key]] as [number, number]] : []));
  return { label, points };
}

function main(out: string, png: string): void {
  const stats = EVALS.map((e) => evalStats(out, e));
  const stageLabel = '0 base 1 zero 2 sft 3 sft+rl';
  const panels: Panel[] = [
    { title: 'RL reward mean per step', curves: RUNS.map((r) => runCurve(out, r, 'reward/mean')) },
    {
      title: 'RL boxed-format rate per step',
      curves: RUNS.map((r) => runCurve(out, r, 'format/rate')),
      yRange: [0, 1],
    },
    {
      title: 'RL response length (tokens) per step',
      curves: RUNS.map((r) => runCurve(out, r, 'response_len/mean')),
    },
    {
      title: `held-out (${stageLabel})`,
      curves: [
        evalCurve(stats, 'accuracy', 'accuracy'),
        evalCurve(stats, 'boxedRate', 'boxed'),
        evalCurve(stats, 'reflectionRate', 'self-check'),
      ],
      yRange: [0, 1],
    },
  ];
  writeFileSync(png, renderPanelsPng(panels));
  console.log(
    '| eval | problems | accuracy | boxed | self-check | mean tokens | truncated |\n|---|---|---|---|---|---|---|',
  );
  EVALS.forEach((e, i) => {
    const s = stats[i];
    if (!s) return;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(
      `| ${e} | ${s.count} | ${pct(s.accuracy)} | ${pct(s.boxedRate)} | ${pct(s.reflectionRate)} | ${s.meanTokens.toFixed(0)} | ${pct(s.truncationRate)} |`,
    );
  });
}

main(process.argv[2], process.argv[3]);
