// The real Qwen2.5 and Llama-3 tokenizers (fetched by scripts/setup-fixtures-tokenizers.sh) through our
// TextTokenizer against Hugging Face `tokenizers` (Rust) and transformers, computed in one Python batch:
// ids on every problem and answer of the shipped training set (data/math-level3to5.jsonl;
// SIMPLERL_TOKENIZER_CORPUS=FILE for another JSONL), decodes that round-trip,
// chat templates as apply_chat_template, and llama.cpp's own tokenizer test vectors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderPrompt } from '../src/tokenizer/prompts.ts';
import { type ChatMessage, TextTokenizer } from '../src/tokenizer/tokenizer.ts';
import { type RealTokenizers, realTokenizers, trainingProblemsFile } from './fixtures/real-tokenizers.ts';
import { venvPython } from './fixtures/tiny-model.ts';

/** Texts every tokenizer must get right beyond the training set: specials, Unicode, whitespace runs. */
const EDGE_TEXTS = [
  '<|im_start|>hello<|im_end|>',
  'Hello world',
  '<|im_start|>system\nPlease reason step by step.<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
  'So the answer is $\\boxed{\\frac{\\sqrt{3}}{2}}$.<|endoftext|>',
  'café naïve 数学 Ελληνικά нещо 🚀 😶‍🌫️ ✅ 🦙🦙 कि',
  "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you",
  '   leading\t\ttabs\r\n\r\n  trailing   ',
  '\n\n\n',
  '3 33 333 3333 33333 3.3 3..3 1,234,567 -0.5e-10',
  // spaces before punctuation: a decode that "cleans up tokenization spaces" would drop them
  "then what is $z$ ? It is n't so , ok . I 'm sure",
  '<think>x</think> <tool_response>',
  '',
];

function conversations(problem: string): ChatMessage[][] {
  const user = { role: 'user', content: `${problem}\nPlease reason step by step.` };
  return [
    [user],
    [{ role: 'system', content: 'You are a careful mathematician.' }, user],
    [user, { role: 'assistant', content: 'It is $\\boxed{4}$.' }, { role: 'user', content: '  Check it. ' }],
    [
      { role: 'system', content: '' },
      { role: 'user', content: '' },
    ],
  ];
}

interface PyRef {
  ids: number[][];
  ids_with_specials: number[][];
  num_transformers_equal: number;
  decoded: string[];
  chats: [string, string][];
  vocab_size: number;
  eos_token_id: number;
  pad_token_id: number | null;
  seconds: Record<string, number>;
}

/** Every problem and answer (and solution, when the file has one) of a problems JSONL. */
function corpusTexts(file: string): string[] {
  const texts: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    for (const key of ['problem', 'answer', 'solution'])
      if (typeof row[key] === 'string') texts.push(row[key] as string);
  }
  return texts;
}

function runReference(dirs: string[], texts: string[], convs: ChatMessage[][], work: string): PyRef[] {
  writeFileSync(join(work, 'in.json'), JSON.stringify({ texts, conversations: convs }));
  const script = join(import.meta.dirname, 'fixtures', 'hf_tokenizer_reference.py');
  const r = spawnSync(venvPython(), [script, join(work, 'in.json'), join(work, 'out.json'), ...dirs], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(join(work, 'out.json'), 'utf8')) as PyRef[];
}

/** llama.cpp's test-tokenizer-0 vectors: cases split by `__ggml_vocab_test__`, one id line each. */
function llamaCppCases(dir: string, vocab: string): { text: string; ids: number[] }[] {
  const inputs = readFileSync(join(dir, `ggml-vocab-${vocab}.gguf.inp`), 'utf8').split(
    '\n__ggml_vocab_test__\n',
  );
  const outputs = readFileSync(join(dir, `ggml-vocab-${vocab}.gguf.out`), 'utf8').split('\n');
  assert.equal(inputs.pop(), '');
  assert.equal(outputs.pop(), '');
  assert.equal(inputs.length, outputs.length);
  return inputs.map((text, i) => ({ text, ids: outputs[i].trim().split(/\s+/).filter(Boolean).map(Number) }));
}

const fixtures = realTokenizers();
const skip = typeof fixtures === 'string' ? fixtures : false;

describe('real tokenizers (Qwen2.5, Llama-3) are byte-identical to Hugging Face', { skip }, () => {
  const dirs = fixtures as RealTokenizers;
  const names = ['qwen2.5', 'llama3'] as const;
  const corpusFile = trainingProblemsFile();
  let work: string;
  let texts: string[];
  let convs: ChatMessage[][];
  let ref: PyRef[];
  let toks: TextTokenizer[];
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'simplerl-real-tok-'));
    const corpus = corpusTexts(corpusFile);
    texts = [...corpus, ...EDGE_TEXTS];
    convs = conversations(corpus[0]);
    const t0 = performance.now();
    ref = runReference([dirs.qwen25, dirs.llama3], texts, convs, work);
    const pySeconds = (performance.now() - t0) / 1000;
    toks = await Promise.all([TextTokenizer.fromDir(dirs.qwen25), TextTokenizer.fromDir(dirs.llama3)]);
    console.log(
      `real tokenizers: ${corpus.length} texts of ${corpusFile} + ${EDGE_TEXTS.length} edge texts; ` +
        `Python reference process ${pySeconds.toFixed(1)} s`,
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('Qwen2.5 and Llama-3 facts: 151,665 tokens, ids of the specials, stop ids from generation_config.json', () => {
    const [qwen] = toks;
    assert.equal(qwen.vocabSize, 151665);
    assert.equal(ref[0].vocab_size, 151665);
    assert.deepEqual(qwen.encode('<|im_start|>hello<|im_end|>'), [151644, 14990, 151645]);
    assert.deepEqual(qwen.eosTokenIds, [151645, 151643]);
    assert.equal(qwen.padTokenId, 151643);
    assert.equal(ref[0].eos_token_id, 151645);
    assert.equal(ref[0].pad_token_id, 151643);
    for (const t of ['<think>', '</think>', '<tool_response>']) assert.equal(qwen.tokenToId(t), undefined, t);
    const llama = toks[1];
    assert.equal(llama.vocabSize, 128256);
    assert.deepEqual(llama.encode('Hello world'), [9906, 1917]);
    assert.equal(llama.eosTokenIds[0], ref[1].eos_token_id);
  });

  for (const [k, name] of names.entries()) {
    test(`${name}: same ids as Rust tokenizers and transformers on every text; decoding round-trips`, () => {
      const tok = toks[k];
      const t0 = performance.now();
      const ours = texts.map((t) => tok.encode(t));
      const encodeMs = performance.now() - t0;
      const numTokens = ours.reduce((n, ids) => n + ids.length, 0);
      const numIdentical = ours.filter((ids, i) => ids.join() === ref[k].ids[i].join()).length;
      const t1 = performance.now();
      const decoded = ours.map((ids) => tok.decode(ids));
      const decodeMs = performance.now() - t1;
      const numRoundTrip = decoded.filter((d, i) => d === texts[i]).length;
      console.log(
        `${name}: ${numIdentical}/${texts.length} texts identical ids (${numTokens} tokens), transformers ` +
          `${ref[k].num_transformers_equal}/${texts.length}, decode round-trips ${numRoundTrip}/${texts.length}; ` +
          `ours encode ${(numTokens / (encodeMs / 1000) / 1000).toFixed(0)}k tok/s, decode ` +
          `${(numTokens / (decodeMs / 1000) / 1000).toFixed(0)}k tok/s; Rust encode_batch ` +
          `${(numTokens / ref[k].seconds.rust_encode / 1000).toFixed(0)}k tok/s`,
      );
      for (const [i, ids] of ours.entries())
        assert.deepEqual(ids, ref[k].ids[i], `text ${i}: ${texts[i].slice(0, 80)}`);
      assert.equal(ref[k].num_transformers_equal, texts.length);
      assert.deepEqual(decoded, ref[k].decoded);
      assert.equal(numRoundTrip, texts.length);
    });

    test(`${name}: add_special_tokens as the tokenizer's post-processor`, () => {
      const tok = toks[k];
      for (const [i, t] of texts.entries())
        assert.deepEqual(
          tok.encode(t, { addSpecialTokens: true }),
          ref[k].ids_with_specials[i],
          t.slice(0, 80),
        );
    });

    test(`${name}: chat template renders as apply_chat_template (system or not, generation prompt or not)`, () => {
      const tok = toks[k];
      const ours = convs.map((c) =>
        [false, true].map((g) => tok.applyChatTemplate(c, { addGenerationPrompt: g })),
      );
      assert.deepEqual(ours, ref[k].chats);
    });
  }

  test('the `chat` prompt template of a real problem is the Qwen2.5 chat template with the instruction', () => {
    const [qwen] = toks;
    const prompt = renderPrompt('chat', 'What is $1+1$?', qwen);
    assert.ok(prompt.startsWith('<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.'), prompt);
    assert.ok(prompt.endsWith('<|im_end|>\n<|im_start|>assistant\n'), prompt);
    assert.deepEqual(qwen.encode(prompt).slice(0, 2), [151644, 8948]); // <|im_start|> system
  });

  for (const [name, vocab, k] of [
    ['qwen2.5', 'qwen2', 0],
    ['llama3', 'llama-bpe', 1],
  ] as const) {
    test(`${name}: llama.cpp's ggml-vocab-${vocab} test vectors`, () => {
      const cases = llamaCppCases(dirs.llamaCpp, vocab);
      assert.ok(cases.length >= 40, `${cases.length} cases`);
      for (const c of cases) assert.deepEqual(toks[k].encode(c.text), c.ids, JSON.stringify(c.text));
      console.log(`${name}: ${cases.length}/${cases.length} llama.cpp ggml-vocab-${vocab} cases identical`);
    });
  }
});
