// A scoring-only eval (`simplerl eval --responses FILE`) through the real verifier worker pool.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BAD_RESPONSE_LINE, MISSING_RESPONSES } from './responses-file.ts';
import { scoreResponses } from './run-eval.ts';

const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

const dir = mkdtempSync(join(tmpdir(), 'simplerl-score-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'data');
mkdirSync(join(data, 'gsm8k'), { recursive: true });
// GSM8K layout: gold after ####.
writeFileSync(
  join(data, 'gsm8k', 'test.jsonl'),
  jsonl([
    {
      question: 'Janet’s ducks lay 16 eggs per day...',
      answer: '16 - 3 - 4 = 9 ... 9 * 2 = 18\n#### 18',
      idx: 0,
    },
    {
      question: 'A robe takes 2 bolts of blue fiber and half that much white fiber...',
      answer: '#### 3',
      idx: 1,
    },
  ]),
);
// A custom file with its own field names.
const custom = join(dir, 'custom.jsonl');
writeFileSync(
  custom,
  jsonl([
    { key: 'half', q: 'What is 1/2 as a number?', gold: '\\frac{1}{2}' },
    { key: 'interval', q: 'Solve 1 < x <= 3.', gold: '(1, 3]' },
  ]),
);
const responses = join(dir, 'model-x.jsonl');
writeFileSync(
  responses,
  jsonl([
    // gsm8k 0, gold 18: "answer is 18" right; boxed 17 wrong; nothing extractable -> no-answer.
    { benchmark: 'gsm8k', id: 0, response: 'Wait, 16-3-4=9 eggs, 9*2. The answer is 18.', num_tokens: 12 },
    { benchmark: 'gsm8k', id: 0, response: 'We get \\boxed{17}', num_tokens: 6 },
    { benchmark: 'gsm8k', id: 0, response: 'I am not sure about this one', num_tokens: 7, finished: false },
    // gsm8k 1, gold 3, matched by problem text (case and spaces differ): all three \boxed{3}.
    {
      benchmark: 'gsm8k',
      problem: 'a robe takes 2 bolts of blue fiber and half  that much white fiber...',
      response: '\\boxed{3}',
    },
    { benchmark: 'gsm8k', id: '1', response: 'so \\boxed{3}' },
    { benchmark: 'gsm8k', id: 1, response: '```python\nprint(3)\n```\n\\boxed{3}' },
    // custom "half", gold 1/2: 0.5 right (equivalent), \frac12 right, 2 wrong.
    { benchmark: 'mine', id: 'half', response: 'So it is \\boxed{0.5}.' },
    { benchmark: 'mine', id: 'half', response: 'Let me verify: \\boxed{\\frac12}' },
    { benchmark: 'mine', id: 'half', response: 'Thus \\boxed{2}' },
    // custom "interval", gold (1, 3]: [1,3] wrong (closed end), (1,3] right twice.
    { benchmark: 'mine', id: 'interval', response: 'x in \\boxed{[1,3]}' },
    { benchmark: 'mine', id: 'interval', response: 'x in \\boxed{(1,3]}' },
    { benchmark: 'mine', id: 'interval', response: 'x in \\boxed{(1, 3]}' },
    // a benchmark that is not evaluated: skipped
    { benchmark: 'math500', id: 'x', response: '\\boxed{1}' },
  ]),
);

describe('simplerl eval --responses (scoring only, real verifier)', () => {
  it('reproduces hand-checked verdicts and metrics', async () => {
    const out = join(dir, 'eval', 'x');
    const { summary, problems } = await scoreResponses({
      benchmarks: ['gsm8k', `mine=${custom}`],
      dataDir: data,
      fields: { id: 'key', problem: 'q', answer: 'gold' },
      responses,
      out,
      graderThreads: 1,
    });
    assert.deepEqual(
      problems.map((p) => [
        p.benchmark,
        p.id,
        p.samples.map((s) => s.correct),
        p.samples.map((s) => s.extracted),
      ]),
      [
        ['gsm8k', '0', [true, false, false], ['18', '17', null]],
        ['gsm8k', '1', [true, true, true], ['3', '3', '3']],
        ['mine', 'half', [true, true, false], ['0.5', '\\frac12', '2']],
        ['mine', 'interval', [false, true, true], ['[1,3]', '(1,3]', '(1, 3]']],
      ],
    );
    assert.deepEqual(
      problems[0].samples.map((s) => s.reason),
      ['equal', 'not-equal', 'no-answer'],
    );
    // n = 3 everywhere -> default metrics pass@1, pass@2, pass@3, avg@3, maj@3.
    assert.deepEqual(summary.metrics, ['pass@1', 'pass@2', 'pass@3', 'avg@3', 'maj@3']);
    // gsm8k: pass@1 = (1/3 + 3/3) / 2 = 2/3.
    //   pass@2: problem 0 (n=3, c=1): 1 - C(2,2)/C(3,2) = 1 - 1/3 = 2/3; problem 1: 1 -> (2/3 + 1)/2 = 5/6.
    //   maj@3: problem 0 is a tie 18 | 17 (the null does not vote) -> first seen "18" -> right; problem 1 right -> 1.
    const g = summary.benchmarks.gsm8k.scores;
    close(g['pass@1'], 2 / 3);
    close(g['pass@2'], 5 / 6);
    assert.equal(g['pass@3'], 1);
    assert.equal(g['maj@3'], 1);
    // mine: pass@1 = (2/3 + 2/3) / 2 = 2/3; maj@3: half {0.5, \frac12} 2 votes -> right;
    //   interval {(1,3], (1, 3]} 2 votes beat [1,3] -> right -> 1.
    const m = summary.benchmarks.mine.scores;
    close(m['pass@1'], 2 / 3);
    assert.equal(m['maj@3'], 1);
    assert.equal(problems[2].majAnswer, '0.5');
    assert.equal(problems[3].majAnswer, '(1,3]');
    // average = unweighted mean of the two benchmarks: (2/3 + 2/3) / 2.
    close(summary.average['pass@1'], 2 / 3);
    // Response stats of gsm8k: 6 samples; tokens known for 3: (12 + 6 + 7) / 3 = 25/3;
    // truncated: 1 of 6 (unset = finished); reflection ("Wait") 1/6; code block 1/6; boxed 4/6.
    const st = summary.benchmarks.gsm8k.stats;
    assert.equal(st.count, 6);
    close(st.meanTokens ?? Number.NaN, 25 / 3);
    close(st.truncationRate ?? Number.NaN, 1 / 6);
    close(st.reflectionRate ?? Number.NaN, 1 / 6);
    close(st.codeBlockRate ?? Number.NaN, 1 / 6);
    close(st.boxedRate ?? Number.NaN, 4 / 6);
    assert.equal(summary.benchmarks.mine.stats.reflectionsByPhrase['let me verify'], 1);

    // Files: per_problem.jsonl (one line per problem), responses.jsonl (one per sample), results.md, summary.json.
    const perProblem = readFileSync(join(out, 'per_problem.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(perProblem.length, 4);
    assert.deepEqual(perProblem[0].extracted, ['18', '17', null]);
    assert.equal(perProblem[0].num_correct, 1);
    close(perProblem[0].metrics['pass@2'], 2 / 3);
    assert.equal(readFileSync(join(out, 'responses.jsonl'), 'utf8').trim().split('\n').length, 12);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    // 2/3 -> 66.7 in both columns and the average.
    assert.match(
      md,
      /\| model \| GSM8K \| mine \| avg \|\n\|---\|---\|---\|---\|\n\| model-x \| 66\.7 \| 66\.7 \| 66\.7 \|/,
    );
    const onDisk = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(onDisk.settings.extract, 'any');
    assert.equal(onDisk.mode, 'score');
    assert.equal(onDisk.label, 'x');

    // Re-scoring our own responses.jsonl gives the same verdicts.
    const again = await scoreResponses({
      benchmarks: ['gsm8k', `mine=${custom}`],
      fields: { id: 'key', problem: 'q', answer: 'gold' },
      dataDir: data,
      responses: join(out, 'responses.jsonl'),
      out: join(dir, 'eval', 'again'),
      graderThreads: 1,
    });
    assert.deepEqual(
      again.problems.map((p) => p.samples.map((s) => s.correct)),
      problems.map((p) => p.samples.map((s) => s.correct)),
    );
  });

  it('names the file and line of a bad or unmatched response, and missing problems', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      jsonl([
        { benchmark: 'gsm8k', id: 0, response: 'x' },
        { benchmark: 'gsm8k', id: 9, response: 'y' },
      ]),
    );
    await assert.rejects(
      scoreResponses({ benchmarks: ['gsm8k'], dataDir: data, responses: bad, out: join(dir, 'bad-out') }),
      { message: `${BAD_RESPONSE_LINE}: ${bad}:2: no problem with id "9" in gsm8k` },
    );
    writeFileSync(bad, jsonl([{ id: 0, text: 'x' }]));
    await assert.rejects(
      scoreResponses({ benchmarks: ['gsm8k'], dataDir: data, responses: bad, out: join(dir, 'bad-out') }),
      new RegExp(`${BAD_RESPONSE_LINE}: .*bad.jsonl:1: "response" must be a string`),
    );
    writeFileSync(bad, jsonl([{ id: 0, response: 'x' }]));
    await assert.rejects(
      scoreResponses({ benchmarks: ['gsm8k'], dataDir: data, responses: bad, out: join(dir, 'bad-out') }),
      new RegExp(`${MISSING_RESPONSES}: .*bad.jsonl: 1 of 2 gsm8k problems have no response \\("1"\\)`),
    );
    writeFileSync(
      bad,
      jsonl([
        { id: 0, response: 'x' },
        { id: 1, response: 'y' },
      ]),
    );
    await assert.rejects(
      scoreResponses({
        benchmarks: ['gsm8k'],
        dataDir: data,
        responses: bad,
        out: join(dir, 'bad-out'),
        metrics: ['maj@4'],
      }),
      /metric maj@4 needs 4 samples per problem but some problem has only 1/,
    );
  });
});
