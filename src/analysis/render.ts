// Markdown summaries of an analysis (analysis.md) and the files `simplerl analyze` writes.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../run/atomic.ts';
import { markdownTable, pct } from '../util/markdown.ts';
import type { ResponsesAnalysis, RunAnalysis, StepStats } from './analyze.ts';
import type { ResponseStats } from './response-stats.ts';

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between the smallest and largest; '·' for a missing value. */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return '';
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return values
    .map((v) => {
      if (v === null) return '·';
      if (hi === lo) return BARS[3];
      return BARS[Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))];
    })
    .join('');
}

/** At most `max` items, evenly spaced, always keeping the first and the last. */
export function evenlySample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round((i * (items.length - 1)) / (max - 1))]);
  return out;
}

const num = (x: number | null, digits = 0) => (x === null ? '–' : x.toFixed(digits));

const STATS_HEADER = [
  'responses',
  'acc %',
  'mean tok',
  'p50',
  'p90',
  'max',
  'trunc %',
  'reflect %',
  'refl/resp',
  'code %',
  'boxed %',
  'repeat %',
  'tok right',
  'tok wrong',
];

function statsCells(s: ResponseStats): string[] {
  return [
    String(s.count),
    pct(s.accuracy),
    num(s.meanTokens),
    num(s.p50Tokens),
    num(s.p90Tokens),
    num(s.maxTokens),
    pct(s.truncationRate),
    pct(s.reflectionRate),
    num(s.meanReflections, 2),
    pct(s.codeBlockRate),
    pct(s.boxedRate),
    pct(s.repetitionRate),
    num(s.meanTokensCorrect),
    num(s.meanTokensWrong),
  ];
}

const RATE_METRICS = new Set([
  'accuracy',
  'truncationRate',
  'reflectionRate',
  'codeBlockRate',
  'boxedRate',
  'repetitionRate',
]);

function skipsMd(a: { numBadLines: number; badExamples: string[] }): string[] {
  if (a.numBadLines === 0) return [];
  return ['', `${a.numBadLines} line(s) skipped:`, ...a.badExamples.map((e) => `- ${e}`)];
}

export function renderRunAnalysisMd(a: RunAnalysis, maxRows = 30): string {
  const parts = [`# Analysis: ${a.run}`, ''];
  parts.push(`${a.numSteps} steps, ${a.numResponses} sampled rollouts. Rates in %; lengths in tokens.`);
  parts.push(`Reflection phrases (whole words, case-insensitive): ${a.phrases.join(', ')}.`, '');
  if (a.steps.length > 0) {
    parts.push('## Change over training', '');
    const rows = Object.entries(a.trends).map(([metric, t]) => {
      const isRate = RATE_METRICS.has(metric);
      const show = (x: number | null) =>
        isRate ? pct(x) : num(x, metric === 'meanReward' || metric === 'meanReflections' ? 3 : 1);
      const values = a.steps.map((s) => (s as unknown as Record<string, number | null>)[metric]);
      return [
        metric + (isRate ? ' %' : ''),
        show(t.first),
        show(t.last),
        show(t.change),
        sparkline(evenlySample(values, 40)),
      ];
    });
    parts.push(markdownTable(['metric', 'first step', 'last step', 'change', 'trend'], rows), '');
    parts.push('## Per step', '');
    const shown: StepStats[] = evenlySample(a.steps, maxRows);
    if (shown.length < a.steps.length)
      parts.push(`${shown.length} of ${a.steps.length} steps shown, evenly spaced.`, '');
    parts.push(
      markdownTable(
        ['step', ...STATS_HEADER, 'reward'],
        shown.map((s) => [String(s.step), ...statsCells(s), num(s.meanReward, 3)]),
      ),
      '',
    );
  }
  if (a.lengthHistogram) {
    const h = a.lengthHistogram;
    parts.push('## Response length distribution (tokens)', '');
    const bins = h.edges.slice(0, -1).map((e, i) => `${e}-${h.edges[i + 1] - 1}`);
    const steps = evenlySample(Object.keys(h.counts), Math.min(maxRows, 12));
    parts.push(
      markdownTable(
        ['step', ...bins],
        steps.map((s) => [s, ...h.counts[s].map(String)]),
      ),
      '',
    );
  }
  const labels = Object.keys(a.evals);
  if (labels.length > 0) {
    parts.push('## Eval outputs', '');
    parts.push(
      markdownTable(
        ['eval', ...STATS_HEADER],
        labels.map((l) => [l, ...statsCells(a.evals[l])]),
      ),
      '',
    );
  }
  parts.push(...skipsMd(a), '');
  return parts.join('\n');
}

export function renderResponsesAnalysisMd(a: ResponsesAnalysis): string {
  const parts = [`# Analysis: ${a.file}`, ''];
  parts.push('Rates in %; lengths in tokens (when the file has num_tokens).');
  parts.push(`Reflection phrases (whole words, case-insensitive): ${a.phrases.join(', ')}.`, '');
  const rows = Object.entries(a.groups).map(([name, s]) => [name, ...statsCells(s)]);
  rows.push(['all', ...statsCells(a.overall)]);
  parts.push(markdownTable(['set', ...STATS_HEADER], rows), '');
  const phrases = Object.entries(a.overall.reflectionsByPhrase).filter(([, c]) => c > 0);
  if (phrases.length > 0) {
    parts.push('## Reflection phrases', '');
    parts.push(
      markdownTable(
        ['phrase', 'count', 'per response'],
        phrases.map(([p, c]) => [p, String(c), (c / a.overall.count).toFixed(3)]),
      ),
      '',
    );
  }
  parts.push(...skipsMd(a), '');
  return parts.join('\n');
}

/** Writes analysis.json and analysis.md into `outDir`; returns the markdown. */
export async function writeAnalysis(
  outDir: string,
  analysis: RunAnalysis | ResponsesAnalysis,
): Promise<string> {
  const md = 'steps' in analysis ? renderRunAnalysisMd(analysis) : renderResponsesAnalysisMd(analysis);
  await mkdir(outDir, { recursive: true });
  writeFileAtomic(join(outDir, 'analysis.json'), `${JSON.stringify(analysis, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'analysis.md'), md);
  return md;
}
