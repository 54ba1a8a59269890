import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  avgAtK,
  defaultMetricNames,
  METRICS_ERROR,
  majorityVote,
  meanMetrics,
  parseMetricName,
  passAtK,
  problemMetrics,
} from './metrics.ts';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

describe('passAtK (unbiased, Chen et al. 2021)', () => {
  it('matches hand-computed binomial ratios', () => {
    // n=5, c=2, k=1: 1 - C(3,1)/C(5,1) = 1 - 3/5 = 0.4
    close(passAtK(5, 2, 1), 0.4);
    // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    close(passAtK(5, 2, 2), 0.7);
    // n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252 = 11/12
    close(passAtK(10, 3, 5), 11 / 12);
    // n=4, c=1, k=4: n - c = 3 < k -> 1
    assert.equal(passAtK(4, 1, 4), 1);
    // c = 0 -> 0 for any k
    assert.equal(passAtK(8, 0, 8), 0);
    // n=1 greedy: pass@1 is the verdict
    assert.equal(passAtK(1, 1, 1), 1);
    assert.equal(passAtK(1, 0, 1), 0);
  });

  it('stays finite where binomials overflow', () => {
    // n=2000, c=1, k=1000: 1 - C(1999,1000)/C(2000,1000) = 1 - 1000/2000 = 0.5
    close(passAtK(2000, 1, 1000), 0.5);
  });

  it('rejects k > n with a clear error', () => {
    assert.throws(() => passAtK(3, 1, 5), {
      message: `${METRICS_ERROR} k=5 is larger than the number of samples n=3: @5 metrics need at least 5 samples per problem (generate with --n 5 or more)`,
    });
    assert.throws(() => passAtK(3, 4, 1), /number correct c must be an integer in \[0, n=3\]/);
    assert.throws(() => passAtK(3, 1, 0), /k must be an integer >= 1/);
  });
});

describe('avgAtK', () => {
  it('averages the first k verdicts', () => {
    const v = [true, false, true, true];
    assert.equal(avgAtK(v), 0.75); // 3 / 4
    assert.equal(avgAtK(v, 2), 0.5); // [T, F] -> 1 / 2
    assert.throws(() => avgAtK(v, 5), /k=5 is larger than the number of samples n=4/);
  });
});

describe('majorityVote', () => {
  it('picks the largest cluster', () => {
    // "4" x2, "5" x1 -> "4" wins with 2 votes, verdict of its first member (true)
    const r = majorityVote(['4', '5', '4'], [true, false, true]);
    assert.deepEqual(r, { answer: '4', correct: true, votes: 2, numClusters: 2, isTie: false });
  });

  it('clusters equivalent answers with the given equivalence', () => {
    // With numeric equivalence, "0.5" and "1/2" form one cluster (2 votes) beating "3" (1 vote)...
    const numeric = (a: string, b: string) => evalNum(a) === evalNum(b);
    const r = majorityVote(['3', '0.5', '1/2'], [false, true, true], 3, numeric);
    assert.equal(r.answer, '0.5');
    assert.equal(r.votes, 2);
    assert.equal(r.correct, true);
    // ...while by string equality all three are distinct: a 3-way tie broken by first appearance ("3").
    const s = majorityVote(['3', '0.5', '1/2'], [false, true, true]);
    assert.deepEqual(s, { answer: '3', correct: false, votes: 1, numClusters: 3, isTie: true });
  });

  it('breaks ties by the earliest first appearance', () => {
    // "7" x2 (first at 1), "2" x2 (first at 0) -> tie; "2" appeared first -> "2", wrong.
    const r = majorityVote(['2', '7', '7', '2'], [false, true, true, false]);
    assert.deepEqual(r, { answer: '2', correct: false, votes: 2, numClusters: 2, isTie: true });
  });

  it('ignores samples without an answer and uses only the first k', () => {
    // first 3: [null, "", "9"] -> only "9" votes
    const r = majorityVote([null, '', '9', '8', '8'], [false, false, true, false, false], 3);
    assert.deepEqual(r, { answer: '9', correct: true, votes: 1, numClusters: 1, isTie: false });
    // all 5: "8" x2 beats "9" x1
    assert.equal(majorityVote([null, '', '9', '8', '8'], [false, false, true, false, false]).answer, '8');
    const none = majorityVote([null, undefined], [false, false]);
    assert.deepEqual(none, { answer: null, correct: false, votes: 0, numClusters: 0, isTie: false });
  });

  it('rejects k > n and mismatched lengths', () => {
    assert.throws(() => majorityVote(['1'], [true], 2), /k=2 is larger than the number of samples n=1/);
    assert.throws(() => majorityVote(['1'], [true, false]), /1 answers but 2 verdicts/);
  });
});

function evalNum(s: string): number {
  const [a, b] = s.split('/');
  return b === undefined ? Number(a) : Number(a) / Number(b);
}

describe('problemMetrics / meanMetrics', () => {
  it('computes named metrics and benchmark means', () => {
    const names = ['pass@1', 'pass@2', 'avg@4', 'maj@4'];
    // problem A: verdicts T F F T, answers 1 2 3 1 -> c=2; pass@1 = 2/4 = 0.5;
    //   pass@2 = 1 - C(2,2)/C(4,2) = 1 - 1/6 = 5/6; avg@4 = 0.5; maj@4: "1" x2 -> correct -> 1
    const a = problemMetrics({ answers: ['1', '2', '3', '1'], verdicts: [true, false, false, true] }, names);
    close(a['pass@2'], 5 / 6);
    assert.equal(a['pass@1'], 0.5);
    assert.equal(a['avg@4'], 0.5);
    assert.equal(a['maj@4'], 1);
    assert.equal(a.numCorrect, 2);
    // problem B: all wrong, answers 5 5 6 null -> pass@1 0, pass@2 0, avg 0, maj "5" wrong -> 0
    const b = problemMetrics(
      { answers: ['5', '5', '6', null], verdicts: [false, false, false, false] },
      names,
    );
    // means: pass@1 (0.5 + 0)/2 = 0.25; pass@2 (5/6)/2 = 5/12; avg@4 0.25; maj@4 0.5
    const m = meanMetrics([a, b], names);
    close(m['pass@2'], 5 / 12);
    assert.deepEqual({ ...m, 'pass@2': 0 }, { 'pass@1': 0.25, 'pass@2': 0, 'avg@4': 0.25, 'maj@4': 0.5 });
  });

  it('parses metric names and lists defaults', () => {
    assert.deepEqual(parseMetricName('maj@8'), { kind: 'maj', k: 8 });
    assert.throws(() => parseMetricName('best@3'), /unknown metric "best@3"/);
    assert.throws(() => parseMetricName('pass@0'), /unknown metric/);
    assert.deepEqual(defaultMetricNames(1), ['pass@1']);
    assert.deepEqual(defaultMetricNames(8), ['pass@1', 'pass@2', 'pass@4', 'pass@8', 'avg@8', 'maj@8']);
    assert.deepEqual(defaultMetricNames(3), ['pass@1', 'pass@2', 'pass@3', 'avg@3', 'maj@3']);
  });

  it('fails on k > n inside problemMetrics', () => {
    assert.throws(() => problemMetrics({ answers: ['1'], verdicts: [true] }, ['maj@4']), /k=4 is larger/);
  });
});
