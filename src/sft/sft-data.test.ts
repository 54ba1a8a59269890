import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTokenizerFiles, tinyMathTokenizerSpec } from '../tokenizer/build-tokenizer.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { planSteps, sftBatch } from './sft.ts';
import { BAD_SFT_LINE, endTokenId, loadSftData } from './sft-data.ts';

describe('SFT data', () => {
  let dir: string;
  let tok: TextTokenizer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-sftdata-'));
    await buildTokenizerFiles(join(dir, 'tok'), tinyMathTokenizerSpec());
    tok = await TextTokenizer.fromDir(join(dir, 'tok'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('prompt / problem records, end token, length filter', async () => {
    const path = join(dir, 'a.jsonl');
    await writeFile(
      path,
      [
        JSON.stringify({ prompt: 'Compute 1+2', response: '\\boxed{3}', problem_id: 'a' }),
        '',
        JSON.stringify({ problem: 'Compute 2+2', response: 'So 4' }),
        JSON.stringify({ prompt: 'Compute 1+2', response: '1 2 3 4 5 6 7 8 9' }),
      ].join('\n'),
    );
    const r = await loadSftData(path, tok, { promptTemplate: 'chat', maxTokens: 12 });
    assert.equal(r.numRecords, 3);
    assert.equal(r.numTooLong, 2); // the chat prompt alone is longer than 12 tokens; so is the third record
    assert.deepEqual(r.examples[0].promptIds, tok.encode('Compute 1+2'));
    // a plain prompt ends with eos (<|endoftext|>, id 0)
    assert.deepEqual(r.examples[0].responseIds, [...tok.encode('\\boxed{3}'), 0]);
    const all = await loadSftData(path, tok, { promptTemplate: 'chat' });
    // a ChatML prompt ends its turn with <|im_end|>
    assert.equal(all.examples[1].responseIds.at(-1), tok.tokenToId('<|im_end|>'));
    assert.equal(endTokenId(tok, 'Compute'), tok.eosTokenIds[0]);
  });

  test('bad lines name file and line', async () => {
    const cases: [string, RegExp][] = [
      ['{"prompt": "a", "response": "b"}\n{"prompt": ', /:2: invalid JSON/],
      ['{"prompt": "a"}', /:1: field "response" must be a non-empty string/],
      ['{"response": "a"}', /:1: needs a string field "prompt"/],
      ['[1]', /:1: expected a JSON object/],
      ['{"prompt": "a", "response": "b"}\n{"prompt": "caf\xe9", "response": "b"}', /:2: not UTF-8/],
    ];
    for (const [text, re] of cases) {
      const path = join(dir, 'bad.jsonl');
      await writeFile(path, Buffer.from(text, 'latin1')); // latin1: the é of the last case is one byte 0xe9
      await assert.rejects(
        loadSftData(path, tok),
        (e: Error) => e.message.startsWith(`${BAD_SFT_LINE}: ${path}`) && re.test(e.message),
      );
    }
    await writeFile(join(dir, 'long.jsonl'), '{"prompt": "Compute", "response": "1 2 3"}\n');
    await assert.rejects(
      loadSftData(join(dir, 'long.jsonl'), tok, { maxTokens: 3 }),
      /no SFT examples \(1 records, 1 longer than 3 tokens\)/,
    );
  });
});

test('planSteps by count and by token budget; sftBatch layout', () => {
  const examples = [
    { promptIds: [1, 2], responseIds: [3] },
    { promptIds: [4], responseIds: [5, 6, 7] },
    { promptIds: [8, 9, 10], responseIds: [11, 12] },
  ];
  assert.deepEqual(planSteps([2, 0, 1, 2], examples, { batchSize: 3 }), [[2, 0, 1], [2]]);
  // lengths 5, 3, 4, 5 with a budget of 8: [5, 3] | [4] | [5]
  assert.deepEqual(planSteps([2, 0, 1, 2], examples, { batchTokens: 8 }), [[2, 0], [1], [2]]);
  // a sequence longer than the budget still forms its own step
  assert.deepEqual(planSteps([2, 1], examples, { batchTokens: 2 }), [[2], [1]]);
  const b = sftBatch(examples, [1, 0]);
  assert.deepEqual([...b.ids], [4, 5, 6, 7, 1, 2, 3]);
  assert.deepEqual([...b.offsets], [0, 4, 7]);
  assert.deepEqual([...b.promptLens], [1, 2]);
});
