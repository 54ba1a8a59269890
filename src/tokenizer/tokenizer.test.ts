import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BAD_TOKENIZER_SPEC,
  buildTokenizerFiles,
  TINY_MATH_TOKENS,
  TINY_SPECIAL_TOKENS,
  tinyMathTokenizerSpec,
} from './build-tokenizer.ts';
import { CHAT_TEMPLATE_ERROR, TextTokenizer, TOKENIZER_LOAD_ERROR } from './tokenizer.ts';

const PYTHON = process.env.SIMPLERL_PYTHON ?? join(import.meta.dirname, '../../.venv/bin/python');

const SAMPLES = [
  'Compute 12+3*4.',
  '<|im_start|>user\nSolve x^2=4<|im_end|>\n<|im_start|>assistant\n',
  'So the answer is \\boxed{42}. Wait, let me verify that: 6*7=42<|endoftext|>',
  ' the then thee',
  'unknown ñ 😀 chars\t\r\n\n',
  '\\frac{1}{2}\\cdot 3 \\times \\sqrt{9} = $1.5$',
  '',
];

describe('tiny tokenizer', () => {
  let dir: string;
  let tok: TextTokenizer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-tok-'));
    await buildTokenizerFiles(dir, tinyMathTokenizerSpec());
    tok = await TextTokenizer.fromDir(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('vocabulary: specials first, then the tokens, plus <unk>', () => {
    assert.equal(tok.vocabSize, TINY_SPECIAL_TOKENS.length + 1 + TINY_MATH_TOKENS.length);
    assert.deepEqual(tok.eosTokenIds, [0]);
    assert.equal(tok.padTokenId, 0);
    assert.equal(tok.tokenToId('<|im_end|>'), 2);
    assert.equal(tok.tokenToId('<unk>'), 3);
    assert.equal(tok.tokenToId('0'), 4);
    assert.ok(TINY_MATH_TOKENS.length >= 55 && TINY_MATH_TOKENS.length <= 70);
  });

  test('digits are single tokens, words carry their leading space, decode inverts encode', () => {
    const pieces = (s: string) => tok.encode(s).map((id) => tok.idToToken(id));
    assert.deepEqual(pieces('So the answer is 128'), ['So', ' the', ' answer', ' is', ' ', '1', '2', '8']);
    assert.deepEqual(pieces('\\boxed{42}'), ['\\boxed{', '4', '2', '}']);
    for (const s of SAMPLES.filter((x) => !tok.encode(x).includes(3)))
      assert.equal(tok.decode(tok.encode(s)), s);
    assert.equal(SAMPLES.filter((x) => !tok.encode(x).includes(3)).length, 5);
  });

  test('unknown characters become one <unk> each; special tokens skip on request', () => {
    assert.deepEqual(tok.encode('ñ😀'), [3, 3]);
    const ids = tok.encode('<|im_start|>So<|im_end|>');
    assert.deepEqual(ids, [1, tok.tokenToId('So'), 2]);
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'So');
    assert.equal(tok.decode(ids), '<|im_start|>So<|im_end|>');
    // ids without a token are skipped (as in Rust; checked against transformers below)
    assert.equal(tok.decode([tok.tokenToId('So') as number, tok.vocabSize, 100000, -1]), 'So');
  });

  test('encodeBatch gives flat ids + offsets', () => {
    const { ids, offsets } = tok.encodeBatch(['12', '', 'So the']);
    assert.deepEqual([...offsets], [0, 2, 2, 4]);
    assert.deepEqual([...ids], [...tok.encode('12'), ...tok.encode('So the')]);
  });

  test('chat template renders ChatML', () => {
    assert.equal(
      tok.applyChatTemplate([{ role: 'user', content: 'Compute 1+1' }], { addGenerationPrompt: true }),
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nCompute 1+1<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('transformers loads the same files with identical ids, decodes and chat template', {
    skip: existsSync(PYTHON) ? false : `no Python environment at ${PYTHON} (run npm run setup:python)`,
  }, () => {
    const script = `
import json, sys
from transformers import AutoTokenizer, PreTrainedTokenizerFast
d = sys.argv[1]
samples = json.loads(sys.stdin.read())
auto = AutoTokenizer.from_pretrained(d)
fast = PreTrainedTokenizerFast(tokenizer_file=d + "/tokenizer.json")
out = {"auto": [auto.encode(s, add_special_tokens=False) for s in samples],
       "fast": [fast.encode(s, add_special_tokens=False) for s in samples],
       "decoded": [auto.decode(auto.encode(s, add_special_tokens=False)) for s in samples],
       "skipped": [auto.decode(auto.encode(s, add_special_tokens=False), skip_special_tokens=True) for s in samples],
       "eos": auto.eos_token_id, "pad": auto.pad_token_id, "len": len(auto),
       "beyond": auto.decode([45, len(auto), len(auto) + 5, 46]),
       "chat": auto.apply_chat_template([{"role": "user", "content": "Solve x"}], tokenize=False, add_generation_prompt=True)}
print(json.dumps(out))
`;
    const res = spawnSync(PYTHON, ['-c', script, dir], { input: JSON.stringify(SAMPLES), encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const py = JSON.parse(res.stdout) as {
      auto: number[][];
      fast: number[][];
      decoded: string[];
      skipped: string[];
      eos: number;
      pad: number;
      len: number;
      chat: string;
      beyond: string;
    };
    const ours = SAMPLES.map((s) => tok.encode(s));
    assert.deepEqual(py.auto, ours);
    assert.deepEqual(py.fast, ours);
    assert.deepEqual(
      py.decoded,
      ours.map((ids) => tok.decode(ids)),
    );
    assert.deepEqual(
      py.skipped,
      ours.map((ids) => tok.decode(ids, { skipSpecialTokens: true })),
    );
    assert.equal(py.eos, tok.eosTokenIds[0]);
    assert.equal(py.pad, tok.padTokenId);
    assert.equal(py.len, tok.vocabSize);
    assert.equal(py.beyond, tok.decode([45, tok.vocabSize, tok.vocabSize + 5, 46]));
    assert.equal(py.beyond, tok.decode([45, 46]));
    assert.equal(
      py.chat,
      tok.applyChatTemplate([{ role: 'user', content: 'Solve x' }], { addGenerationPrompt: true }),
    );
  });
});

const CONVERSATIONS = [
  [{ role: 'user', content: 'Compute 1+1' }],
  [
    { role: 'system', content: 'Please reason step by step.' },
    { role: 'user', content: 'Solve x^2=4' },
    { role: 'assistant', content: 'x = 2 or x = -2' },
    { role: 'user', content: 'Wait, verify that' },
  ],
  [
    { role: 'user', content: 'a' },
    { role: 'assistant', content: '' },
  ],
];

describe('the Qwen2.5 chat template renders as in transformers', () => {
  test('tokenizer_config.json and chat_template.jinja', {
    skip: existsSync(PYTHON) ? false : `no Python environment at ${PYTHON} (run npm run setup:python)`,
  }, async () => {
    const template = await readFile(
      join(import.meta.dirname, 'fixtures', 'qwen25-chat-template.jinja'),
      'utf8',
    );
    const root = await mkdtemp(join(tmpdir(), 'simplerl-qwen-template-'));
    try {
      const inConfig = join(root, 'config');
      const inFile = join(root, 'file');
      await buildTokenizerFiles(inConfig, tinyMathTokenizerSpec({ chatTemplate: template }));
      await buildTokenizerFiles(inFile, tinyMathTokenizerSpec({ chatTemplate: undefined }));
      await writeFile(join(inFile, 'chat_template.jinja'), template);
      const script = `
import json, sys
from transformers import AutoTokenizer
convs = json.loads(sys.stdin.read())
out = []
for d in sys.argv[1:]:
    tok = AutoTokenizer.from_pretrained(d)
    out.append([tok.apply_chat_template(c, tokenize=False, add_generation_prompt=g) for c in convs for g in (False, True)])
print(json.dumps(out))
`;
      const res = spawnSync(PYTHON, ['-c', script, inConfig, inFile], {
        input: JSON.stringify(CONVERSATIONS),
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, res.stderr);
      const py = JSON.parse(res.stdout) as string[][];
      for (const [k, dir] of [inConfig, inFile].entries()) {
        const tok = await TextTokenizer.fromDir(dir);
        const ours = CONVERSATIONS.flatMap((c) =>
          [false, true].map((g) => tok.applyChatTemplate(c, { addGenerationPrompt: g })),
        );
        assert.deepEqual(ours, py[k], dir);
      }
      assert.ok(py[0][1].startsWith('<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('a byte-level BPE tokenizer (Qwen2 pre-tokenizer) trained by HF tokenizers', () => {
  test('same ids and decodes as the Rust library; eos ids from generation_config.json', {
    skip: existsSync(PYTHON) ? false : `no Python environment at ${PYTHON} (run npm run setup:python)`,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simplerl-bytelevel-'));
    try {
      const script = String.raw`
import json, os, sys
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, Regex
d = sys.argv[1]
samples = json.loads(sys.stdin.read())
QWEN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
tok.decoder = decoders.ByteLevel()
corpus = ["Let me compute 12 + 30 = 42. So the answer is \\boxed{42}.", "Wait, that is wrong. \\frac{1}{2} × 3 = 1.5", "Solve x^2 - 4 = 0: x = ±2, verify: 2² = 4", "数学 problems, naïve café"] * 20
specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok.save(os.path.join(d, "tokenizer.json"))
json.dump({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "clean_up_tokenization_spaces": False}, open(os.path.join(d, "tokenizer_config.json"), "w"))
json.dump({"eos_token_id": [2, 0]}, open(os.path.join(d, "generation_config.json"), "w"))
enc = [tok.encode(s).ids for s in samples]
print(json.dumps({"ids": enc, "decoded": [tok.decode(i, skip_special_tokens=False) for i in enc], "size": tok.get_vocab_size()}))
`;
      const samples = [
        ...SAMPLES,
        'Let me compute 12 + 30 = 42. So the answer is \\boxed{42}.',
        '数学 problems, naïve café: 2² = 4 ✓ — 😀',
        "It's 3.14159; we'll   see\n\n  \tindented",
        '<|im_start|>user\nSolve x^2=4<|im_end|>',
      ];
      const res = spawnSync(PYTHON, ['-c', script, dir], {
        input: JSON.stringify(samples),
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, res.stderr);
      const py = JSON.parse(res.stdout) as { ids: number[][]; decoded: string[]; size: number };
      const tok = await TextTokenizer.fromDir(dir);
      assert.deepEqual(
        samples.map((x) => tok.encode(x)),
        py.ids,
      );
      assert.deepEqual(
        py.ids.map((ids) => tok.decode(ids)),
        py.decoded,
      );
      assert.deepEqual(py.decoded, samples);
      assert.equal(tok.vocabSize, py.size);
      assert.deepEqual(tok.eosTokenIds, [0, 2]); // tokenizer eos first, then generation_config's others
      assert.equal(tok.padTokenId, 0);
      // a sample cut inside a multi-byte character decodes without throwing
      const emoji = tok.encode('😀');
      assert.equal(typeof tok.decode(emoji.slice(0, 1)), 'string');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizer errors', () => {
  test('bad specifications name the field', async () => {
    const spec = tinyMathTokenizerSpec();
    await Promise.all([
      assert.rejects(
        buildTokenizerFiles('/nonexistent', { ...spec, tokens: ['a', 'a'] }),
        (e: Error) => e.message.startsWith(BAD_TOKENIZER_SPEC) && e.message.includes('tokens[1]'),
      ),
      assert.rejects(buildTokenizerFiles('/nonexistent', { ...spec, tokens: ['12'] }), /tokens\[0\] "12"/),
      assert.rejects(buildTokenizerFiles('/nonexistent', { ...spec, eosToken: '</s>' }), /eosToken "<\/s>"/),
    ]);
  });

  test('a broken tokenizer.json or chat template names the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simplerl-tok-'));
    try {
      await assert.rejects(TextTokenizer.fromDir(dir), (e: Error) =>
        e.message.startsWith(TOKENIZER_LOAD_ERROR),
      );
      await buildTokenizerFiles(
        dir,
        tinyMathTokenizerSpec({ chatTemplate: '{% for m in messages %}{{ m.content }' }),
      );
      await assert.rejects(
        TextTokenizer.fromDir(dir),
        (e: Error) =>
          e.message.startsWith(CHAT_TEMPLATE_ERROR) && e.message.includes('tokenizer_config.json'),
      );
      await writeFile(join(dir, 'tokenizer.json'), '{"model": ');
      await assert.rejects(TextTokenizer.fromDir(dir), (e: Error) =>
        e.message.includes(join(dir, 'tokenizer.json')),
      );
      await buildTokenizerFiles(dir, tinyMathTokenizerSpec({ chatTemplate: undefined }));
      const tok = await TextTokenizer.fromDir(dir);
      assert.throws(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }]), /has no chat_template/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
