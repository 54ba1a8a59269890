import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { runCli } from '../../../tests/fixtures/train-setup.ts';
import { BAD_EXTRACT } from '../options.ts';
import { BAD_LINE, register } from './grade.ts';

describe('simplerl grade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-grade-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('grades JSONL, keeps extra fields, reports bad lines by number and a summary', async () => {
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
    assert.deepEqual(
      rows.map((r) => r.id),
      ['a', 'b', 'c'],
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
    assert.equal(rows[2].reward, -1); // truncated
    assert.match(stderr, new RegExp(`${BAD_LINE} .*in.jsonl:3: not JSON`));
    assert.match(stderr, /in\.jsonl:5: field "response" must be a string/);
    assert.match(stderr, /3 graded, 2 bad lines, correct 3 \(100\.00%\), no answer 0, timeouts 0/);
  });

  it('rejects an unknown extraction mode', async () => {
    const p = new Command('simplerl')
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(p);
    await assert.rejects(
      p.parseAsync(['grade', '--input', 'x', '--output', 'y', '--extract', 'last'], { from: 'user' }),
      (err: Error) => err.message.startsWith(BAD_EXTRACT),
    );
  });
});
