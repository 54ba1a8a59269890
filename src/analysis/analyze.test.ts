import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../../tests/fixtures/train-setup.ts';
import { ANALYZE_ERROR, analyzeResponses, analyzeRun, histogram, histogramEdges, slope } from './analyze.ts';
import { evenlySample, renderRunAnalysisMd, sparkline } from './render.ts';

const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const close = (a: number | null, b: number) =>
  assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} != ${b}`);

function rollout(
  step: number,
  response: string,
  num_tokens: number,
  finished: boolean,
  correct: boolean,
  reward: number,
) {
  return {
    step,
    prompt_id: 'p',
    prompt: 'q',
    response,
    gold: '1',
    extracted: null,
    correct,
    reward,
    finished,
    num_tokens,
  };
}

const run = mkdtempSync(join(tmpdir(), 'simplerl-analyze-'));
after(() => rmSync(run, { recursive: true, force: true }));
mkdirSync(join(run, 'rollouts'));
writeFileSync(
  join(run, 'rollouts', 'step-000001.jsonl'),
  jsonl([
    rollout(1, '```python\nprint(1)\n```\n\\boxed{1}', 10, true, false, -0.5),
    rollout(1, 'The answer is 2', 20, true, true, -1),
  ]),
);
writeFileSync(
  join(run, 'rollouts', 'step-000002.jsonl'),
  `${jsonl([
    rollout(2, 'Wait, let me check. \\boxed{2}', 40, true, true, 1),
    rollout(2, 'so x = ...', 100, false, false, -1),
  ])}{not json\n`,
);
writeFileSync(
  join(run, 'rollouts', 'step-000004.jsonl'),
  jsonl([
    rollout(4, 'However, wait. Let me verify: \\boxed{3}', 60, true, true, 1),
    rollout(4, 'Alternatively \\boxed{4}', 80, true, true, 1),
  ]),
);
writeFileSync(join(run, 'rollouts', 'notes.txt'), 'ignored: not a step file');
mkdirSync(join(run, 'eval', 'step-000004'), { recursive: true });
writeFileSync(
  join(run, 'eval', 'step-000004', 'responses.jsonl'),
  jsonl([
    {
      benchmark: 'math500',
      id: 'a',
      response: 'wait \\boxed{1}',
      correct: true,
      finished: true,
      num_tokens: 5,
    },
    { benchmark: 'gsm8k', id: '0', response: 'It is 3', correct: false, finished: true, num_tokens: 7 },
  ]),
);

describe('analyzeRun', () => {
  it('summarises each step and the change over steps (hand-computed)', async () => {
    const a = await analyzeRun(run);
    assert.equal(a.numSteps, 3);
    assert.deepEqual(
      a.steps.map((s) => s.step),
      [1, 2, 4],
    );
    assert.equal(a.numResponses, 6);
    // step 1: tokens (10 + 20)/2 = 15; one code block, one box, 1 of 2 right; reward (-0.5 - 1)/2 = -0.75
    const [s1, s2, s4] = a.steps;
    assert.deepEqual(
      [
        s1.meanTokens,
        s1.codeBlockRate,
        s1.boxedRate,
        s1.accuracy,
        s1.reflectionRate,
        s1.truncationRate,
        s1.meanReward,
      ],
      [15, 0.5, 0.5, 0.5, 0, 0, -0.75],
    );
    // step 2: (40 + 100)/2 = 70; 1 of 2 truncated; "Wait" + "let me check" in one response -> rate 1/2, 2 per 2 = 1
    assert.deepEqual(
      [s2.meanTokens, s2.truncationRate, s2.reflectionRate, s2.meanReflections, s2.meanReward, s2.maxTokens],
      [70, 0.5, 0.5, 1, 0, 100],
    );
    // step 4: "However", "wait", "Let me verify" + "Alternatively" = 4 matches / 2 responses = 2
    assert.deepEqual([s4.reflectionRate, s4.meanReflections, s4.accuracy, s4.boxedRate], [1, 2, 1, 1]);
    // accuracy over steps (1, .5), (2, .5), (4, 1): first .5, last 1, change .5;
    // slope: mean x = 7/3, mean y = 2/3; Sxy = (-4/3)(-1/6) + (-1/3)(-1/6) + (5/3)(1/3) = 5/6;
    // Sxx = 16/9 + 1/9 + 25/9 = 14/3 -> 5/6 / (14/3) = 5/28
    const acc = a.trends.accuracy;
    assert.deepEqual([acc.first, acc.last, acc.change, acc.min, acc.max], [0.5, 1, 0.5, 0.5, 1]);
    close(acc.slopePerStep, 5 / 28);
    assert.deepEqual(
      [a.trends.meanTokens.first, a.trends.meanTokens.last, a.trends.meanTokens.change],
      [15, 70, 55],
    );
    // histogram: max 100 tokens -> width 10, edges 0..110 (11 bins); step 1 has 10 (bin 1) and 20 (bin 2)
    assert.deepEqual(a.lengthHistogram?.edges, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    assert.deepEqual(a.lengthHistogram?.counts['1'], [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(a.lengthHistogram?.counts['2'], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    // the bad line is skipped and reported with its file and line
    assert.equal(a.numBadLines, 1);
    assert.match(a.badExamples[0], /step-000002\.jsonl:3: invalid JSON/);
    // eval label with responses.jsonl: 2 responses, 1 right, 1 reflection
    assert.deepEqual(
      [a.evals['step-000004'].count, a.evals['step-000004'].accuracy, a.evals['step-000004'].reflectionRate],
      [2, 0.5, 0.5],
    );
    const md = renderRunAnalysisMd(a);
    assert.match(md, /\| accuracy % \| 50\.0 \| 100\.0 \| 50\.0 \| ▁▁█ \|/);
    assert.match(md, /1 line\(s\) skipped/);
  });

  it('fails clearly on a folder that is not a run', async () => {
    const empty = join(run, 'not-a-run');
    mkdirSync(empty);
    await assert.rejects(
      analyzeRun(empty),
      new RegExp(`${ANALYZE_ERROR} .* has no rollouts/step-NNNNNN.jsonl`),
    );
    await assert.rejects(analyzeRun(join(empty, 'nope')), /does not exist/);
  });
});

describe('analyzeResponses', () => {
  it('groups eval responses by benchmark', async () => {
    const a = await analyzeResponses(join(run, 'eval', 'step-000004', 'responses.jsonl'));
    assert.deepEqual(Object.keys(a.groups), ['math500', 'gsm8k']);
    assert.equal(a.groups.math500.accuracy, 1);
    assert.equal(a.overall.meanTokens, 6); // (5 + 7) / 2
    assert.equal(a.overall.reflectionsByPhrase.wait, 1);
  });
});

describe('analysis helpers', () => {
  it('slope, histogram edges, sparkline, sampling', () => {
    assert.equal(slope([0, 1, 2], [1, 3, 5]), 2);
    assert.equal(slope([3], [1]), null);
    // max 3000 -> raw width 300 -> round up to 500 -> 0..3500
    assert.deepEqual(histogramEdges(3000), [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]);
    assert.deepEqual(histogram([0, 499, 500, 3000], histogramEdges(3000)), [2, 1, 0, 0, 0, 0, 1]);
    assert.equal(sparkline([0, 0.5, 1, null]), '▁▅█·'); // 0.5 * 7 = 3.5 -> round 4 -> '▅'
    assert.deepEqual(evenlySample([1, 2, 3, 4, 5], 3), [1, 3, 5]);
  });
});

describe('simplerl analyze (CLI)', () => {
  it('writes analysis.json and analysis.md for a run and for an eval folder', async () => {
    const r = await runCli(['analyze', run]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /# Analysis: /);
    assert.ok(existsSync(join(run, 'analysis', 'analysis.json')));
    assert.equal(JSON.parse(readFileSync(join(run, 'analysis', 'analysis.json'), 'utf8')).numSteps, 3);
    const e = await runCli(['analyze', join(run, 'eval', 'step-000004'), '--json']);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(JSON.parse(e.stdout).overall.count, 2);
    assert.ok(existsSync(join(run, 'eval', 'step-000004', 'analysis', 'analysis.md')));
    const bad = await runCli(['analyze']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /give a run folder/);
  });
});
