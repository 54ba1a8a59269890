// The training prompts: the start-of-run line says how many were dropped and why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildTokenizerFiles, tinyMathTokenizerSpec } from '../tokenizer/build-tokenizer.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { describePromptSet, loadPromptSet } from './prompt-set.ts';

describe('training prompt set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-prompt-set-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts duplicates, level filters and over-long prompts in the log line', async () => {
    await buildTokenizerFiles(dir, tinyMathTokenizerSpec());
    const tok = await TextTokenizer.fromDir(dir);
    const path = join(dir, 'train.jsonl');
    const rows = [
      { problem: 'Compute 1 + 2.', answer: '3', level: 'Level 3' },
      { problem: 'Compute 1 + 2.', answer: '3', level: 'Level 3' }, // duplicate
      { problem: 'Compute 2 + 2.', answer: '4', level: 'Level 1' }, // filtered
      { problem: `Compute ${Array(40).fill('1').join(' + ')}.`, answer: '40', level: 'Level 4' }, // too long
      { problem: 'Compute 3 + 2.', answer: '5', level: 'Level 5' },
    ];
    writeFileSync(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const set = await loadPromptSet(path, tok, { template: 'plain', maxPromptTokens: 32, levels: [3, 4, 5] });
    assert.equal(set.items.length, 2);
    assert.equal(
      describePromptSet(path, set, 32),
      `simplerl: 2 training prompts from ${path} (dropped: 1 duplicates, 1 filtered by data.levels / data.subjects, 1 longer than 32 tokens)`,
    );
    const clean = await loadPromptSet(path, tok, { template: 'plain', maxPromptTokens: 512, dedup: false });
    assert.equal(describePromptSet(path, clean, 512), `simplerl: 5 training prompts from ${path}`);
  });
});
