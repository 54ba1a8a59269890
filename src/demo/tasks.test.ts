import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { DEFAULT_MIX, RECHECK_PHRASE, WRONG_PHRASE, writeCorpus } from './corpus.ts';
import {
  answerOf,
  type ChainSpec,
  chainValue,
  type EquationSpec,
  HARD_LEVEL,
  parseProblem,
  splitOfText,
  synthTasks,
} from './tasks.ts';
import { countDemoTokens, DEMO_PROMPT_TEMPLATE, demoTokenizerFiles } from './vocab.ts';

test('demo tasks: splits never overlap and answers are exact', () => {
  const train = synthTasks({ split: 'train', count: 3000, seed: 1 });
  const test_ = synthTasks({ split: 'test', count: 500, seed: 1 });
  const hard = synthTasks({ split: 'hard', count: 300, seed: 1 });
  const trainTexts = new Set(train.map((t) => t.problem));
  assert.equal(trainTexts.size, train.length, 'train problems are distinct');
  for (const t of [...test_, ...hard]) {
    assert.equal(trainTexts.has(t.problem), false);
    assert.equal(splitOfText(t.problem), 'held-out');
  }
  for (const t of train) assert.equal(splitOfText(t.problem), 'train');
  for (const t of hard) assert.equal(t.level, HARD_LEVEL);
  for (const t of [...train, ...test_, ...hard]) {
    const spec = parseProblem(t.problem);
    assert.equal(answerOf(spec), t.answer, t.problem);
    if (spec.kind === 'equation') {
      assert.equal(spec.a * spec.x + (spec.sign === '+' ? spec.b : -spec.b), spec.c);
      assert.ok(Number.isInteger(spec.x) && spec.x > 0);
    } else {
      assert.ok(chainValue(spec) >= 0);
    }
  }
  const skills = new Set(train.map((t) => t.skill));
  assert.deepEqual([...skills].sort(), ['chain', 'equation']);
});

test('demo tasks: deterministic in the seed, different across seeds', () => {
  const a = synthTasks({ split: 'test', count: 50, seed: 3 });
  const b = synthTasks({ split: 'test', count: 50, seed: 3 });
  const c = synthTasks({ split: 'test', count: 50, seed: 4 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('demo tasks: the hard split has longer chains and larger constants than train', () => {
  const train = synthTasks({ split: 'train', count: 2000, seed: 0 });
  const hard = synthTasks({ split: 'hard', count: 300, seed: 0 });
  const chainLengths = (ts: typeof train) =>
    ts.filter((t) => t.skill === 'chain').map((t) => (t.spec as ChainSpec).operands.length);
  assert.ok(Math.min(...chainLengths(hard)) > Math.max(...chainLengths(train)));
  const constants = (ts: typeof train) =>
    ts.filter((t) => t.skill === 'equation').map((t) => (t.spec as EquationSpec).b);
  assert.ok(Math.min(...constants(hard)) > Math.max(...constants(train)));
});

test('demo corpus: styles, slips and rechecks as specified', () => {
  const docs = writeCorpus({ numDocs: 4000, seed: 0, rambleTokens: 140, countTokens: countDemoTokens });
  const share = (f: (d: (typeof docs)[0]) => boolean) => docs.filter(f).length / docs.length;
  assert.ok(Math.abs(share((d) => d.style === 'terse') - DEFAULT_MIX.styles.terse) < 0.03);
  const worked = docs.filter((d) => d.style === 'worked');
  const rechecked = worked.filter((d) => d.isRecheck);
  assert.ok(Math.abs(rechecked.length / worked.length - DEFAULT_MIX.recheckRate) < 0.04);
  // every recheck ends right; a recheck says "wrong" exactly when the first pass slipped
  for (const d of rechecked) {
    assert.ok(d.isCorrect && d.response.includes(RECHECK_PHRASE), d.response);
    assert.equal(d.response.includes(WRONG_PHRASE), d.isSlip, d.response);
    // the verification and the second solve never slip: every step after the recheck phrase is right
    const afterCheck = d.response.slice(d.response.indexOf(RECHECK_PHRASE));
    for (const [, x, op, y, z] of afterCheck.matchAll(/(\d+) ([+-]) (\d+) = (\d+)\./g))
      assert.equal(op === '+' ? Number(x) + Number(y) : Number(x) - Number(y), Number(z), d.response);
  }
  // a slip without a recheck ends in a wrong box; a clean pass in a right one
  for (const d of worked.filter((x) => !x.isRecheck)) assert.equal(d.isCorrect, !d.isSlip, d.response);
  for (const d of docs.filter((x) => x.style === 'ramble')) assert.ok(countDemoTokens(d.response) > 140);
  for (const d of docs.filter((x) => x.style === 'unboxed'))
    assert.equal(d.response.includes('boxed'), false);
  // slips and rechecks are independent: P(recheck | slip) ≈ P(recheck | clean)
  const slipped = worked.filter((d) => d.isSlip);
  const clean = worked.filter((d) => !d.isSlip);
  const rate = (ds: typeof worked) => ds.filter((d) => d.isRecheck).length / ds.length;
  assert.ok(Math.abs(rate(slipped) - rate(clean)) < 0.06);
  // held-out problems never appear; a slip carried forward never makes a number negative
  for (const d of docs) {
    assert.equal(splitOfText(d.problem), 'train');
    assert.equal(/(^|[^ ])-\d/.test(d.response), false, d.response);
  }
});

test('demo tokenizer: covers the corpus and the held-out splits with no unknown token', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'demo-tok-'));
  try {
    await demoTokenizerFiles(dir);
    const tok = await TextTokenizer.fromDir(dir);
    const unk = tok.tokenToId('<unk>');
    const docs = writeCorpus({ numDocs: 400, seed: 2, rambleTokens: 140, countTokens: countDemoTokens });
    const hard = synthTasks({ split: 'hard', count: 50, seed: 0 });
    for (const text of [
      ...docs.map((d) => DEMO_PROMPT_TEMPLATE.replace('{input}', d.problem) + d.response),
      ...hard.map((t) => t.problem),
    ]) {
      const ids = tok.encode(text);
      assert.equal(ids.includes(unk!), false, text);
      assert.equal(tok.decode(ids), text);
      assert.equal(ids.length, countDemoTokens(text));
    }
    // prompt and response tokenise apart exactly as together
    const prompt = DEMO_PROMPT_TEMPLATE.replace('{input}', docs[0]!.problem);
    assert.deepEqual(tok.encode(prompt + docs[0]!.response), [
      ...tok.encode(prompt),
      ...tok.encode(docs[0]!.response),
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
