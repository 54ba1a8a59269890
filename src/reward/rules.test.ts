import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  gradeItem,
  isFormatted,
  ORIGINAL_REWARD_RULES,
  type RewardRules,
  resolveRules,
  ZOO_REWARD_RULES,
} from './index.ts';

const grade = (gold: string, response: string, rules: RewardRules = ORIGINAL_REWARD_RULES, finished = true) =>
  gradeItem({ gold, response, finished }, { extract: 'boxed', rules });

describe('reward rules: the original table (+1 / -0.5 / -1, strict format)', () => {
  it('correct and well formatted: +1', () => assert.equal(grade('5', 'so \\boxed{5}').reward, 1));
  it('formatted but wrong: -0.5', () => assert.equal(grade('5', 'so \\boxed{6}').reward, -0.5));
  it('no box at all: -1', () => assert.equal(grade('5', 'the answer is 5').reward, -1));
  it('truncated at the length limit: -1 even if the box is right', () => {
    const g = grade('5', 'so \\boxed{5} and then', ORIGINAL_REWARD_RULES, false);
    assert.equal(g.reward, -1);
    assert.equal(g.formatted, false);
    assert.equal(g.correct, true);
  });
  it('strict: two boxes are not one final answer', () =>
    assert.equal(grade('5', '\\boxed{4} no wait \\boxed{5}').formatted, false));
  it('strict: an unclosed box is not formatted', () =>
    assert.equal(grade('5', 'so \\boxed{5').formatted, false));
  it('strict: text after the stop word is ignored', () =>
    assert.equal(grade('5', '\\boxed{5}<|im_end|>\\boxed{6}').reward, 1));
});

describe("reward rules: format 'original' (SimpleRL v0)", () => {
  const rules = resolveRules({ format: 'original' });
  it('only needs the substring "boxed"', () => {
    assert.equal(isFormatted('\\boxed{4} no wait \\boxed{5}', true, 'original'), true);
    assert.equal(grade('5', '\\boxed{4} no wait \\boxed{5}', rules).reward, 1);
  });
  it('ignores truncation', () => assert.equal(grade('5', '\\boxed{5}', rules, false).reward, 1));
  it('a box cut off by the stop word does not count', () =>
    assert.equal(grade('5', 'answer 5 <|im_end|> \\boxed{5}', rules).reward, -1));
});

describe("reward rules: format 'none' and the Zoo preset", () => {
  it('Zoo is 1 for correct, 0 otherwise', () => {
    assert.deepEqual(ZOO_REWARD_RULES, { correct: 1, wrong: 0, noAnswer: 0, truncated: 0, format: 'none' });
    assert.equal(grade('5', '\\boxed{5}', ZOO_REWARD_RULES).reward, 1);
    assert.equal(grade('5', '\\boxed{6}', ZOO_REWARD_RULES).reward, 0);
    assert.equal(grade('5', 'nothing', ZOO_REWARD_RULES).reward, 0);
  });
  it('no answer still gets noAnswer under none', () => {
    assert.equal(grade('5', 'nothing', resolveRules({ format: 'none', noAnswer: -3 })).reward, -3);
  });
  it('truncation still applies under none', () => {
    assert.equal(grade('5', '\\boxed{5}', resolveRules({ format: 'none', truncated: -2 }), false).reward, -2);
  });
});

describe('resolveRules', () => {
  it('fills defaults from the original table', () =>
    assert.deepEqual(resolveRules({ wrong: 0 }), { ...ORIGINAL_REWARD_RULES, wrong: 0 }));
  it('rejects non-finite values and unknown formats, naming the field', () => {
    assert.throws(() => resolveRules({ correct: Number.NaN }), /correct/);
    assert.throws(
      () => resolveRules({ format: 'loose' as 'none' }),
      /format must be one of strict, original, none/,
    );
  });
});
