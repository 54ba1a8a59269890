import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { register } from '../cli/commands/data.ts';

test('simplerl data synth writes the three splits and the corpus as JSONL', async () => {
  const out = await mkdtemp(join(tmpdir(), 'demo-synth-'));
  try {
    const program = new Command('simplerl').exitOverride();
    register(program);
    const log = console.log;
    console.log = () => {};
    try {
      await program.parseAsync(
        [
          'data',
          'synth',
          '--out',
          out,
          '--seed',
          '3',
          '--count',
          '40',
          '--test-count',
          '10',
          '--hard-count',
          '5',
          '--corpus',
          '20',
        ],
        { from: 'user' },
      );
    } finally {
      console.log = log;
    }
    const read = async (name: string) =>
      (await readFile(join(out, name), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const train = await read('train.jsonl');
    const test_ = await read('test.jsonl');
    const hard = await read('hard.jsonl');
    assert.deepEqual([train.length, test_.length, hard.length], [40, 10, 5]);
    for (const row of [...train, ...test_, ...hard]) {
      assert.deepEqual(Object.keys(row).sort(), ['answer', 'id', 'level', 'problem', 'skill']);
      assert.match(String(row.answer), /^\d+$/);
    }
    const corpus = await read('corpus.jsonl');
    assert.equal(corpus.length, 20);
    assert.ok(corpus.every((d) => typeof d.response === 'string' && typeof d.problem === 'string'));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
