import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answersEquivalent, extractAnswer, goldAnswer, verify } from './index.ts';
import { CASES } from './verify.cases.ts';

describe('verify: hand-labelled cases (any mode)', () => {
  const categories = [...new Set(CASES.map((c) => c.category))];
  for (const category of categories) {
    describe(category, () => {
      for (const c of CASES.filter((x) => x.category === category)) {
        it(`${c.why} (${c.equal ? 'equal' : 'not equal'})`, () => {
          const v = verify(c.gold, c.pred, { extract: 'any' });
          assert.equal(
            v.correct,
            c.equal,
            `gold ${JSON.stringify(c.gold)} pred ${JSON.stringify(c.pred)} → ${JSON.stringify(v)}`,
          );
        });
      }
    });
  }
});

describe('extractAnswer', () => {
  it('boxed mode reads only the final box', () => {
    assert.equal(extractAnswer('so $x = 3$ and the answer is 3', 'boxed'), null);
    assert.equal(
      extractAnswer('first \\boxed{1}, then after checking \\boxed{\\frac{1}{2}}', 'boxed'),
      '\\frac{1}{2}',
    );
  });
  it('boxed mode keeps nested braces', () => {
    assert.equal(extractAnswer('\\boxed{\\frac{\\sqrt{3}}{2}}', 'boxed'), '\\frac{\\sqrt{3}}{2}');
  });
  it('boxed mode joins boxes separated only by "and"', () => {
    assert.equal(extractAnswer('The integers are \\boxed{-2} and \\boxed{1}.', 'boxed'), '-2,1');
  });
  it('boxed mode does not join a correction', () => {
    assert.equal(extractAnswer('\\boxed{5}, wait, that is wrong: \\boxed{7}', 'boxed'), '7');
  });
  it('an empty box is no answer', () => {
    assert.equal(extractAnswer('\\boxed{}', 'boxed'), null);
    assert.equal(verify('1', '\\boxed{ }').reason, 'no-answer');
  });
  it('any mode falls back to "the answer is" and to the last number', () => {
    assert.equal(extractAnswer('The answer is 12.', 'any'), '12');
    assert.equal(extractAnswer('First 3 apples, then 5 apples, so 8', 'any'), '8');
  });
  it('any mode reads percent as percent', () => {
    assert.equal(extractAnswer('it rose by 12%', 'any'), '12\\%');
  });
  it('gives null for text without an answer', () => {
    assert.equal(extractAnswer('no idea', 'any'), null);
    assert.equal(extractAnswer('', 'any'), null);
  });
});

describe('goldAnswer', () => {
  it('reads a bare gold whole, a $-wrapped gold, and a solution with a box', () => {
    assert.equal(goldAnswer('\\frac{1}{2}'), '\\frac{1}{2}');
    assert.equal(goldAnswer('$x^2$'), 'x^2');
    assert.equal(goldAnswer('We find $y=2$ so the answer is $\\boxed{7}$.'), '7');
  });
});

describe('answersEquivalent (maj@k)', () => {
  it('groups equivalent answers', () => {
    assert.equal(answersEquivalent('\\frac{1}{2}', '0.5'), true);
    assert.equal(answersEquivalent('\\{1,2\\}', '\\{2,1\\}'), true);
    assert.equal(answersEquivalent('2', '3'), false);
  });
  it('compares unparsable answers as text', () => {
    assert.equal(answersEquivalent('\\weird{', '\\weird{'), true);
    assert.equal(answersEquivalent('', ''), false);
  });
});

describe('verify: verdict shape', () => {
  it('reports the extracted answer and the reason', () => {
    assert.deepEqual(verify('$\\frac12$', 'so \\boxed{0.5}'), {
      correct: true,
      extracted: '0.5',
      reason: 'equal',
    });
    assert.deepEqual(verify('3', 'so \\boxed{4}'), { correct: false, extracted: '4', reason: 'not-equal' });
    assert.deepEqual(verify('3', 'the answer is 3'), {
      correct: false,
      extracted: null,
      reason: 'no-answer',
    });
  });
  it('defaults to boxed extraction', () => {
    assert.equal(verify('3', 'the answer is 3').correct, false);
    assert.equal(verify('3', 'the answer is 3', { extract: 'any' }).correct, true);
  });
  it('never throws on non-string input', () => {
    for (const bad of [null, undefined, 42, {}, []] as unknown as string[]) {
      assert.equal(typeof verify(bad, bad).reason, 'string');
      assert.equal(verify('1', bad, { extract: 'any' }).correct, false);
    }
  });
});
