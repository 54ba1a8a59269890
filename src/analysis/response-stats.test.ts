import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasBoxed, hasCodeBlock, isRepetitive, percentile, summarizeResponses } from './response-stats.ts';

describe('response detectors', () => {
  it('hasCodeBlock needs a fence at the start of a line', () => {
    assert.equal(hasCodeBlock('```python\nprint(1)\n```'), true);
    assert.equal(hasCodeBlock('text\n  ```\ncode'), true);
    assert.equal(hasCodeBlock('inline ``` not a fence'), false);
  });

  it('hasBoxed matches \\boxed but not \\boxedx', () => {
    assert.equal(hasBoxed('so \\boxed{3}'), true);
    assert.equal(hasBoxed('so \\boxed 3'), true);
    assert.equal(hasBoxed('\\boxeda'), false);
    assert.equal(hasBoxed('boxed{3}'), false);
  });

  it('isRepetitive finds a looping n-gram', () => {
    // "a b c" repeated 3 times: the 3-gram "a b c" occurs 3 times -> repetitive with n=3, repeats=3.
    assert.equal(isRepetitive('a b c a b c a b c', 3, 3), true);
    // Repeated only twice -> 2 occurrences < 3.
    assert.equal(isRepetitive('a b c a b c', 3, 3), false);
    // 22 identical words: the 20-gram occurs at positions 0, 1, 2 -> 3 times with the defaults.
    assert.equal(isRepetitive(Array(22).fill('1').join(' ')), true);
    assert.equal(isRepetitive(Array(21).fill('1').join(' ')), false);
    assert.throws(() => isRepetitive('x', 0), /positive integer/);
  });

  it('percentile is nearest-rank', () => {
    // 10 values: p50 -> rank ceil(5) = 5th = 5; p90 -> rank 9 = 9; p91 -> rank ceil(9.1) = 10.
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(v, 50), 5);
    assert.equal(percentile(v, 90), 9);
    assert.equal(percentile(v, 91), 10);
    assert.equal(percentile([], 50), null);
  });
});

describe('summarizeResponses', () => {
  it('computes hand-checked stats', () => {
    const loop = Array(8).fill('x = 2 .').join(' '); // 24 words, period 3 -> repetitive with n=3
    const items = [
      { response: 'Wait, \\boxed{4}', numTokens: 10, finished: true, correct: true },
      { response: '```python\nprint(4)\n```', numTokens: 30, finished: false, correct: false },
      { response: `However, ${loop}`, numTokens: 50, finished: false, correct: false },
      { response: 'the answer is 4', correct: true },
    ];
    const s = summarizeResponses(items, { repetitionNgram: 3 });
    assert.equal(s.count, 4);
    assert.equal(s.numWithTokens, 3);
    assert.equal(s.meanTokens, 30); // (10 + 30 + 50) / 3
    assert.equal(s.minTokens, 10);
    assert.equal(s.p50Tokens, 30); // rank ceil(1.5) = 2
    assert.equal(s.maxTokens, 50);
    assert.equal(s.truncationRate, 2 / 3); // 2 of the 3 items that say
    assert.equal(s.reflectionRate, 0.5); // "Wait", "However" in 2 of 4
    assert.equal(s.meanReflections, 0.5); // 2 matches / 4
    assert.equal(s.reflectionsByPhrase.wait, 1);
    assert.equal(s.reflectionsByPhrase.however, 1);
    assert.equal(s.codeBlockRate, 0.25);
    assert.equal(s.boxedRate, 0.25);
    assert.equal(s.repetitionRate, 0.25);
    assert.equal(s.numGraded, 4);
    assert.equal(s.accuracy, 0.5);
    assert.equal(s.meanTokensCorrect, 10); // only item 0 has tokens among correct ones
    assert.equal(s.meanTokensWrong, 40); // (30 + 50) / 2
  });

  it('returns nulls for an empty list', () => {
    const s = summarizeResponses([]);
    assert.equal(s.count, 0);
    assert.equal(s.meanTokens, null);
    assert.equal(s.reflectionRate, null);
    assert.equal(s.accuracy, null);
    assert.equal(s.truncationRate, null);
  });
});
