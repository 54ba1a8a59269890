import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parquetWriteFile } from 'hyparquet-writer';
import { BAD_PROBLEM_LINE, lastBoxed, loadProblems, loadProblemsReport } from './problems.ts';
import { NOT_UTF8 } from './utf8.ts';

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('loadProblems', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-data-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the public benchmark layouts map to (problem, answer)', async () => {
    // One line in the layout of each set of docs/recipe.md.
    const path = join(dir, 'mixed.jsonl');
    await writeFile(
      path,
      jsonl([
        // MATH500: answer field wins over the solution's box.
        {
          problem: 'P1',
          solution: 'so \\boxed{\\frac{1}{2}}',
          answer: '\\frac{1}{2}',
          subject: 'Algebra',
          level: 3,
          unique_id: 'test/1.json',
        },
        // GSM8K: text after ####, thousands separators dropped.
        { question: 'P2', answer: 'Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 1,072', idx: 7 },
        // AMC23: a JSON number.
        { id: 3, problem: 'P3', answer: 27.0, url: 'x' },
        // AMC23 variant: a one-element answer list.
        { id: 6, problem: 'P6', answer: ['27.0'] },
        // OlympiadBench: final_answer[0] with $ stripped.
        { id: 4, question: 'P4', final_answer: ['$\\sqrt{2}$'], solution: 'no box here' },
        // Minerva: last box of the solution, nested braces matched.
        {
          problem: 'P5',
          solution: 'first \\boxed{1} then \\boxed{\\frac{a}{b^{2}}}.',
          type: 'Physics',
          idx: 5,
        },
      ]),
    );
    const problems = await loadProblems(path);
    assert.deepEqual(problems, [
      { id: 'test/1.json', problem: 'P1', answer: '\\frac{1}{2}', level: 3, subject: 'Algebra' },
      { id: '7', problem: 'P2', answer: '1072' },
      { id: '3', problem: 'P3', answer: '27' },
      { id: '6', problem: 'P6', answer: '27.0' },
      { id: '4', problem: 'P4', answer: '\\sqrt{2}' },
      { id: '5', problem: 'P5', answer: '\\frac{a}{b^{2}}', subject: 'Physics' },
    ]);
  });

  test('verl parquet layout: chat-message prompt and reward_model.ground_truth; dotted field paths', async () => {
    const path = join(dir, 'verl.jsonl');
    await writeFile(
      path,
      jsonl([
        {
          data_source: 'math',
          prompt: [
            { role: 'system', content: 'sys' },
            { role: 'user', content: 'Find $x$ if $2x = 6$.' },
          ],
          reward_model: { style: 'rule', ground_truth: '3' },
          extra_info: { index: 7, meta: { gold: 'three' } },
        },
        { prompt: [{ role: 'assistant', content: 'x' }], reward_model: { ground_truth: '1' } },
      ]),
    );
    const r = await loadProblemsReport(path, { onBadLine: 'skip' });
    assert.deepEqual(r.problems, [{ id: 'verl.jsonl:1', problem: 'Find $x$ if $2x = 6$.', answer: '3' }]);
    assert.deepEqual(r.badExamples, [`${path}:2: field "prompt" is a message list without a user message`]);
    const custom = await loadProblems(path, {
      fields: { id: 'extra_info.index', answer: 'extra_info.meta.gold' },
      onBadLine: 'skip',
    });
    assert.deepEqual(custom, [{ id: '7', problem: 'Find $x$ if $2x = 6$.', answer: 'three' }]);
  });

  test('custom field names, filters, de-duplication and limit', async () => {
    const path = join(dir, 'train.jsonl');
    await writeFile(
      path,
      jsonl([
        { q: 'What is 1+1?', gold: '2', level: 'Level 3', type: 'Algebra' },
        { q: 'what  is 1+1?\n', gold: '2', level: 'Level 4', type: 'Algebra' }, // duplicate after normalising
        { q: 'Hard one', gold: '9', level: 'Level 5', type: 'Geometry' },
        { q: 'Easy one', gold: '1', level: 'Level 1', type: 'Algebra' },
        { q: 'Another', gold: '3', level: 'Level 4', type: 'algebra' },
      ]),
    );
    const fields = { problem: 'q', answer: 'gold' };
    const r = await loadProblemsReport(path, { fields, levels: [3, 4, 5], subjects: ['Algebra'] });
    assert.deepEqual(
      r.problems.map((p) => [p.id, p.answer]),
      [
        ['train.jsonl:1', '2'],
        ['train.jsonl:5', '3'],
      ],
    );
    assert.equal(r.numDuplicates, 1);
    assert.equal(r.numFiltered, 2);
    assert.equal((await loadProblems(path, { fields, dedup: false })).length, 5);
    assert.equal((await loadProblems(path, { fields, limit: 2 })).length, 2);
    assert.equal((await loadProblems(path, { fields, levels: ['Level 5'] }))[0].problem, 'Hard one');
  });

  test('a malformed line is reported as FILE:LINE, or skipped and counted', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(
      path,
      '{"problem": "ok", "answer": "1"}\n\n{"problem": "broken", "answer": \n{"question": "no answer"}\n[1,2]\n{"problem": "p", "solution": "\\\\boxed{unclosed"}\n{"problem": {"a": 1}, "answer": "1"}\n',
    );
    await assert.rejects(loadProblems(path), (e: Error) => {
      assert.ok(e.message.startsWith(BAD_PROBLEM_LINE), e.message);
      assert.match(e.message, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: invalid JSON`));
      return true;
    });
    const r = await loadProblemsReport(path, { onBadLine: 'skip' });
    assert.equal(r.problems.length, 1);
    assert.equal(r.numBad, 5);
    const reasons = r.badExamples.map((m) => m.slice(path.length));
    assert.match(reasons[0], /^:3: invalid JSON: /);
    assert.deepEqual(reasons.slice(1), [
      ':4: no answer (looked for "answer", "final_answer", "reward_model.ground_truth" and a \\boxed{} in "solution")',
      ':5: expected a JSON object, got an array',
      ':6: field "solution" has no closed \\boxed{...} answer',
      ':7: field "problem" must be a string or a number, got {"a":1}',
    ]);
    await assert.rejects(loadProblems(join(dir, 'x.csv')), /unknown problems file type "\.csv"/);
    await assert.rejects(loadProblems(join(dir, 'missing.jsonl')), /ENOENT/);
  });

  test('non-UTF-8 bytes (a Latin-1 "é") are refused, naming the file and line, also with onBadLine skip', async () => {
    for (const ext of ['jsonl', 'json']) {
      const path = join(dir, `latin1.${ext}`);
      const lines = ['{"problem": "ok", "answer": "1"}', '{"problem": "caf\u00e9", "answer": "2"}'];
      const text = ext === 'jsonl' ? `${lines.join('\n')}\n` : `[\n${lines.join(',\n')}\n]\n`;
      await writeFile(path, Buffer.from(text, 'latin1'));
      const where = `${path}:${ext === 'jsonl' ? 2 : 3}: ${NOT_UTF8}`;
      await assert.rejects(loadProblems(path), (e: Error) => {
        assert.ok(e.message.startsWith(`${BAD_PROBLEM_LINE}: ${where} (`), e.message);
        return true;
      });
      await assert.rejects(loadProblemsReport(path, { onBadLine: 'skip' }), new RegExp(NOT_UTF8));
      await writeFile(path, Buffer.from(text, 'utf8')); // the same text in UTF-8 loads
      assert.equal((await loadProblems(path))[1].problem, 'caf\u00e9');
    }
  });

  test('Parquet files load the same way (INT64 ids arrive as BigInt)', async () => {
    const path = join(dir, 'gsm.parquet');
    parquetWriteFile({
      filename: path,
      columnData: [
        { name: 'question', data: ['Q1', 'Q2', 'Q1'], type: 'STRING' },
        { name: 'answer', data: ['a\n#### 5', 'b\n#### -3', 'c #### 5'], type: 'STRING' },
        { name: 'idx', data: [10n, 11n, 12n], type: 'INT64' },
      ],
    });
    const r = await loadProblemsReport(path);
    assert.deepEqual(r.problems, [
      { id: '10', problem: 'Q1', answer: '5' },
      { id: '11', problem: 'Q2', answer: '-3' },
    ]);
    assert.equal(r.numDuplicates, 1);
    const bad = join(dir, 'nope.parquet');
    parquetWriteFile({ filename: bad, columnData: [{ name: 'text', data: ['x'], type: 'STRING' }] });
    await assert.rejects(loadProblems(bad), /nope\.parquet:row 1: no problem text/);
    await writeFile(join(dir, 'corrupt.parquet'), 'not parquet');
    await assert.rejects(loadProblems(join(dir, 'corrupt.parquet')), /corrupt\.parquet: cannot read Parquet/);
  });
});

test('lastBoxed matches braces and takes the last box', () => {
  assert.equal(lastBoxed('a \\boxed{1} b \\boxed{{x}^{2}}'), '{x}^{2}');
  assert.equal(lastBoxed('\\fbox{ 7 }'), '7');
  assert.equal(lastBoxed('\\boxed{open'), undefined);
  assert.equal(lastBoxed('none'), undefined);
});
