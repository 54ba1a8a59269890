import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../../tests/fixtures/train-setup.ts';
import { BAD_FIELDS, defaultEvalOut, EVAL_MODE_ERROR, parseFields } from './eval.ts';

describe('simplerl eval (CLI)', () => {
  it('derives the output folder from a run checkpoint or a file name', () => {
    assert.equal(
      defaultEvalOut('runs/zero/checkpoints/step-000012/policy'),
      join('runs/zero/eval/step-000012'),
    );
    assert.equal(defaultEvalOut('runs/zero/checkpoints/step-000012/'), join('runs/zero/eval/step-000012'));
    assert.equal(defaultEvalOut('/models/Qwen2.5-Math-7B'), join('evals/Qwen2.5-Math-7B'));
    assert.equal(defaultEvalOut('out/vllm-greedy.jsonl'), join('evals/vllm-greedy'));
  });

  it('parses --fields and rejects unknown keys', () => {
    assert.deepEqual(parseFields('id=key, problem=q,answer=gold'), {
      id: 'key',
      problem: 'q',
      answer: 'gold',
    });
    assert.throws(
      () => parseFields('gold=x'),
      (err: Error) => err.message.startsWith(BAD_FIELDS),
    );
    assert.throws(
      () => parseFields('answer='),
      (err: Error) => err.message.startsWith(BAD_FIELDS),
    );
  });

  it('scores a responses file end to end and needs exactly one mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simplerl-eval-cli-'));
    writeFileSync(
      join(dir, 'b.jsonl'),
      `${JSON.stringify({ id: 'a', problem: 'What is 6*7?', answer: '42' })}\n`,
    );
    writeFileSync(join(dir, 'r.jsonl'), `${JSON.stringify({ id: 'a', response: 'So \\boxed{42}.' })}\n`);
    const out = join(dir, 'out');
    const r = await runCli([
      'eval',
      '--benchmarks',
      `t=${join(dir, 'b.jsonl')}`,
      '--responses',
      join(dir, 'r.jsonl'),
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    // 1 of 1 right -> 100.0
    assert.match(r.stdout, /\| r \| 100\.0 \| 100\.0 \|/);
    assert.equal(
      JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).benchmarks.t.scores['pass@1'],
      1,
    );
    rmSync(dir, { recursive: true, force: true });
    const none = await runCli(['eval', '--benchmarks', 'math500']);
    assert.equal(none.code, 1);
    assert.ok(none.stderr.includes(EVAL_MODE_ERROR));
  });
});
