// Fuzz: random and hostile LaTeX through verify (in-thread: never throws, always a verdict) and
// through the Grader (every item answers within the time budget, nothing crashes the pool).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { answersEquivalent, extractAnswer, Grader, verify } from '../../src/reward/index.ts';
import { mulberry32 } from '../../src/util/random.ts';

const FRAGMENTS = [
  '\\frac',
  '{',
  '}',
  '\\sqrt',
  '^',
  '_',
  '(',
  ')',
  '[',
  ']',
  '\\boxed{',
  '\\boxed',
  '\\fbox{',
  '$',
  '$$',
  '\\(',
  '\\)',
  '\\[',
  '\\]',
  '\\left(',
  '\\right)',
  '\\left\\{',
  '\\right\\}',
  '0',
  '1',
  '7',
  '42',
  '3.14',
  '1,000',
  'x',
  'y',
  'e',
  'i',
  '\\pi',
  '\\infty',
  '\\pm',
  '=',
  '<',
  '\\le',
  '\\ge',
  '\\ne',
  '\\approx',
  ',',
  ';',
  ':',
  '\\begin{pmatrix}',
  '&',
  '\\\\',
  '\\end{pmatrix}',
  '\\begin{cases}',
  '!',
  '.',
  '%',
  '\\%',
  '\\text{',
  'answer',
  'Answer:',
  'final answer is',
  ' I hope',
  '\\cup',
  '\\in',
  '\\cdot',
  '\\times',
  '\\div',
  '\\sin',
  '\\log_',
  '\\ln',
  '|',
  '\\mathbb{R}',
  '^\\circ',
  '°',
  '−',
  '∞',
  '√',
  ' ',
  '\n',
  '\\',
  '\\\\\\',
  'π',
  '😀',
  '\u0000',
  '\\dfrac12',
  '10^{10^{10}}',
  '100000!',
  '\\binom{10^9}{5}',
];

function randomLatex(r: () => number): string {
  const n = 1 + Math.floor(r() * 40);
  let s = '';
  for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)];
  return s;
}

const MB = 1 << 20;
const HOSTILE: [string, string][] = [
  ['deep braces', `\\boxed{${'{'.repeat(100_000)}1${'}'.repeat(100_000)}}`],
  ['deep parentheses', `\\boxed{${'('.repeat(50_000)}1${')'.repeat(50_000)}}`],
  ['deep fractions', `\\boxed{${'\\frac{1}{'.repeat(5000)}2${'}'.repeat(5000)}}`],
  ['power tower', '\\boxed{10^{10^{10}}}'],
  ['taller tower', '\\boxed{10^{10^{10^{10^{10}}}}}'],
  ['huge factorial', '\\boxed{100000!}'],
  ['factorial of a googol', '\\boxed{(10^{100})!}'],
  ['1 MB of letters', 'a'.repeat(MB)],
  ['1 MB of digits', '9'.repeat(MB)],
  ['1 MB of inline math', '$1$ '.repeat(MB / 4)],
  ['1 MB of open boxes', '\\boxed{'.repeat(MB / 7)],
  ['unbalanced braces', '}}}}{{{{\\boxed{\\frac{1}{2'],
  ['unclosed display math', '\\['.repeat(100_000)],
  ['answer word spam', 'answer: '.repeat(100_000)],
  ['number list spam', '1, '.repeat(300_000)],
  ['huge matrix', `\\boxed{\\begin{pmatrix}${'1&'.repeat(5000)}1\\end{pmatrix}}`],
  ['huge exact power', '\\boxed{(\\frac{3}{7})^{99999}}'],
  ['huge square root', `\\boxed{\\sqrt{${'9'.repeat(5000)}}}`],
];

describe('fuzz: random LaTeX in-thread', () => {
  it('verify, extractAnswer and answersEquivalent never throw and always answer', () => {
    const r = mulberry32(7);
    for (let i = 0; i < 1500; i++) {
      const a = randomLatex(r);
      const b = randomLatex(r);
      for (const mode of ['boxed', 'any'] as const) {
        const v = verify(a, b, { extract: mode });
        assert.equal(typeof v.correct, 'boolean');
        assert.equal(typeof v.reason, 'string');
        assert.ok(!v.reason.startsWith('error'), `${JSON.stringify(a)} / ${JSON.stringify(b)}: ${v.reason}`);
        const x = extractAnswer(b, mode);
        assert.ok(x === null || typeof x === 'string');
      }
      assert.equal(typeof answersEquivalent(a, b), 'boolean');
    }
  });

  it('an answer always equals itself when it parses', () => {
    const r = mulberry32(11);
    for (let i = 0; i < 500; i++) {
      const a = randomLatex(r);
      const x = extractAnswer(`\\boxed{${a}}`, 'boxed');
      if (x !== null && verify(x, `\\boxed{${x}}`).reason === 'equal') assert.ok(answersEquivalent(x, x));
    }
  });
});

describe('fuzz: hostile input in-thread', () => {
  // The caps (scan window, answer length, exact-number size, parse depth) keep even the worst
  // input far below the Grader's budget; this catches a quadratic pattern sneaking back in.
  const LIMIT_MS = 2000;
  for (const [name, s] of HOSTILE) {
    it(`${name}: answers in well under the budget, as response and as gold`, () => {
      for (const mode of ['boxed', 'any'] as const) {
        let t0 = performance.now();
        verify('$\\frac{1}{2}$', s, { extract: mode });
        assert.ok(performance.now() - t0 < LIMIT_MS, `${mode} response took ${performance.now() - t0} ms`);
        t0 = performance.now();
        verify(s.slice(0, 200_000), '\\boxed{1}', { extract: mode });
        assert.ok(performance.now() - t0 < LIMIT_MS, `${mode} gold took ${performance.now() - t0} ms`);
      }
    });
  }
});

describe('fuzz: hostile input through the Grader', () => {
  const BUDGET_MS = 1500;
  let grader: Grader;
  before(async () => {
    grader = await Grader.create({ threads: 1, timeoutMs: BUDGET_MS, extract: 'any' });
  });
  after(() => grader.close());

  it('every hostile item answers within the budget, as response and as gold', async () => {
    const items = HOSTILE.flatMap(([, s]) => [
      { gold: '$\\frac{1}{2}$', response: s },
      { gold: s.slice(0, 200_000), response: '\\boxed{1}' },
    ]);
    const t0 = performance.now();
    const graded = await grader.grade(items);
    const elapsed = performance.now() - t0;
    assert.equal(graded.length, items.length);
    graded.forEach((g, i) => {
      assert.equal(typeof g.reward, 'number', HOSTILE[i >> 1][0]);
      assert.ok(
        ['equal', 'not-equal', 'no-answer', 'no-gold', 'timeout'].includes(g.reason),
        `${HOSTILE[i >> 1][0]}: ${g.reason}`,
      );
    });
    // Each item may use at most one budget (plus a retry of its chunk): far below items × budget.
    assert.ok(elapsed < items.length * BUDGET_MS, `took ${elapsed} ms`);
  });
});
