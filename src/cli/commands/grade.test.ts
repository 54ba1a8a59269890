import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { REPO_ROOT, runCli } from '../../../tests/fixtures/train-setup.ts';
import { BAD_POSITIVE_INT } from '../options.ts';
import { BAD_LINE, CANNOT_READ_INPUT, CANNOT_WRITE_OUTPUT, register } from './grade.ts';

describe('simplerl grade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-grade-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('grades JSONL, keeps extra fields, one output line per input line (bad ones with an error), a summary', async () => {
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify({ id: 'a', gold: '\\frac12', response: 'so \\boxed{0.5}' }),
        JSON.stringify({ id: 'b', gold: '3', response: 'the answer is 3' }),
        'this is not json',
        JSON.stringify({ id: 'c', gold: 27, response: '\\boxed{27}', finished: false }),
        JSON.stringify({ id: 'd', gold: '1' }),
        '',
        JSON.stringify({ id: 'e', gold: '2', response: '\\boxed{3}' }),
        '',
      ].join('\n'),
    );
    const { code, stderr } = await runCli([
      'grade',
      '--input',
      input,
      '--output',
      output,
      '--extract',
      'any',
      '--threads',
      '1',
    ]);
    assert.equal(code, 0, stderr);
    const rows = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // output line N is input line N: `paste in out` and zips by line number stay aligned
    assert.deepEqual(
      rows.map((r) => r.id),
      ['a', 'b', undefined, 'c', 'd', undefined, 'e'],
    );
    assert.deepEqual(rows[0], {
      id: 'a',
      gold: '\\frac12',
      response: 'so \\boxed{0.5}',
      correct: true,
      extracted: '0.5',
      reason: 'equal',
      formatted: true,
      reward: 1,
    });
    assert.equal(rows[1].correct, true); // any mode reads "the answer is 3"
    assert.equal(rows[1].reward, -1); // but without a box it is not well formatted
    assert.equal(rows[3].reward, -1); // truncated
    assert.equal(rows[2].correct, false);
    assert.ok(rows[2].error.startsWith(`${BAD_LINE} ${input}:3: not JSON`), rows[2].error);
    assert.deepEqual(rows[4], {
      id: 'd',
      gold: '1',
      error: `${BAD_LINE} ${input}:5: field "response" must be a string`,
      correct: false,
    });
    assert.deepEqual(rows[5], { error: `${BAD_LINE} ${input}:6: empty line`, correct: false });
    assert.equal(rows[6].correct, false);
    assert.match(stderr, new RegExp(`${BAD_LINE} .*in.jsonl:3: not JSON`));
    assert.match(stderr, /in\.jsonl:5: field "response" must be a string/);
    // bad lines count as not correct: 3 of 7 lines
    assert.match(
      stderr,
      /7 lines, 4 graded, 3 bad lines, correct 3 \(42\.86% of lines\), no answer 0, timeouts 0/,
    );
  });

  for (const [flag, value, allowed] of [
    ['--extract', 'last', 'boxed, any'],
    ['--format', 'loose', 'strict, original, none'],
  ]) {
    it(`rejects ${flag} ${value} (commander choices)`, async () => {
      const p = new Command('simplerl')
        .exitOverride()
        .configureOutput({ writeErr: () => {}, writeOut: () => {} });
      register(p);
      await assert.rejects(
        p.parseAsync(['grade', '--input', 'x', '--output', 'y', flag, value], { from: 'user' }),
        (err: Error) => err.message.includes(`'${value}' is invalid. Allowed choices are ${allowed}.`),
      );
    });
  }
});

describe('simplerl grade: user errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-grade-err-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, `${JSON.stringify({ gold: '1', response: '\\boxed{1}' })}\n`);

  it('an --output in a missing folder names the file, no stack trace; exit code 1', async () => {
    const output = join(dir, 'no-such-dir', 'out.jsonl');
    const r = await runCli(['grade', '--input', input, '--output', output, '--threads', '1']);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${CANNOT_WRITE_OUTPUT} ${output}: ENOENT`), r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('a missing --input names the file and creates no output', async () => {
    const output = join(dir, 'never.jsonl');
    const r = await runCli(['grade', '--input', join(dir, 'nope.jsonl'), '--output', output]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${CANNOT_READ_INPUT} ${join(dir, 'nope.jsonl')}`), r.stderr);
    assert.equal(existsSync(output), false);
  });

  it('--threads and --timeout-ms must be positive integers (named in the error)', async () => {
    const output = join(dir, 'out.jsonl');
    for (const [flag, value] of [
      ['--threads', 'abc'],
      ['--timeout-ms', 'abc'],
      ['--threads', '0'],
    ]) {
      const r = await runCli(['grade', '--input', input, '--output', output, flag, value]);
      assert.equal(r.code, 1, `${flag} ${value}`);
      assert.ok(r.stderr.includes(`option '${flag} <`), r.stderr);
      assert.ok(r.stderr.includes(`${BAD_POSITIVE_INT}, got ${value}`), r.stderr);
    }
  });

  it('--output - writes the graded lines to stdout (the summary stays on stderr)', async () => {
    const r = await runCli(['grade', '--input', input, '--output', '-', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].correct, true);
    assert.match(r.stderr, /1 graded, 0 bad lines/);
    assert.equal(existsSync(join(REPO_ROOT, '-')), false);
  });
});
