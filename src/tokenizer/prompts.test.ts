import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTokenizerFiles, tinyMathTokenizerSpec } from './build-tokenizer.ts';
import { PROMPT_TEMPLATE_NAMES, renderPrompt, UNKNOWN_PROMPT_TEMPLATE } from './prompts.ts';
import { TextTokenizer } from './tokenizer.ts';

// Byte-for-byte copies of docs/recipe.md "Prompt templates", with {input} = "What is $1+1$?".
const PROBLEM = 'What is $1+1$?';

test('qwen25-math-cot matches the recipe byte for byte', () => {
  assert.equal(
    renderPrompt('qwen25-math-cot', PROBLEM),
    '<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>user\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('qwen-boxed matches the recipe byte for byte', () => {
  assert.equal(
    renderPrompt('qwen-boxed', PROBLEM),
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is $1+1$?\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('abel, plain and custom templates', () => {
  assert.equal(
    renderPrompt('abel', PROBLEM),
    "Question:\nWhat is $1+1$?\nAnswer:\nLet's think step by step.\n",
  );
  assert.equal(renderPrompt('plain', PROBLEM), PROBLEM);
  // `$&`-style replacement patterns in the problem stay literal.
  assert.equal(renderPrompt('Q: {input} A: {input}', '$& x'), 'Q: $& x A: $& x');
});

test('unknown names list the valid ones', () => {
  assert.throws(
    () => renderPrompt('qwen-math', PROBLEM),
    (e: Error) =>
      e.message.startsWith(UNKNOWN_PROMPT_TEMPLATE) &&
      PROMPT_TEMPLATE_NAMES.every((n) => e.message.includes(n)),
  );
  assert.throws(() => renderPrompt('chat', PROBLEM), /needs a tokenizer/);
});

test('chat uses the tokenizer chat template with the math instruction', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'simplerl-prompt-'));
  try {
    await buildTokenizerFiles(dir, tinyMathTokenizerSpec());
    const tok = await TextTokenizer.fromDir(dir);
    assert.equal(
      renderPrompt('chat', 'Compute 2+2', tok),
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nCompute 2+2\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
