// Issue 17, item 5: every real gold answer (the shipped training set and the six benchmarks, read by
// their own loaders) boxed in a response earns the full reward through the reward path RL uses (the
// Grader's worker pool: extraction, verification, strict format). At least 99.5% per set; what
// still fails is listed below with the reason, and any other failure (or a listed one that now
// passes) fails the test, so the list stays exact.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MATH_OUT } from '../data/math-build.ts';
import { loadProblems } from '../data/problems.ts';
import { Grader, ORIGINAL_REWARD_RULES } from '../reward/index.ts';
import { BENCHMARK_NAMES, loadBenchmark, SHIPPED_BENCHMARK_DIR } from './benchmarks.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MIN_RATE = 0.995;
const TRAINING_SET = 'math-level3to5';

/** Golds that do not verify against themselves, by set and problem id, with the reason. */
export const EXPECTED_FAILURES: Record<string, Record<string, string>> = {
  olympiadbench: {
    '1965':
      'the gold is a sentence, not an answer: "f(x)=a x+b, where b is an arbitrary integer, and a is an ' +
      'arbitrary positive integer with \\mho(a)=0"; its prose does not parse and the gold reader takes a piece of it',
  },
};

interface GoldSet {
  name: string;
  items: { id: string; gold: string }[];
}

async function goldSets(): Promise<GoldSet[]> {
  const sets: GoldSet[] = [];
  const train = await loadProblems(join(ROOT, DEFAULT_MATH_OUT), { levels: [3, 4, 5] });
  sets.push({ name: TRAINING_SET, items: train.map((p) => ({ id: p.id, gold: p.answer })) });
  for (const name of BENCHMARK_NAMES) {
    const bench = await loadBenchmark({ spec: name });
    assert.equal(bench.warning, undefined, bench.warning);
    assert.equal(bench.paths[0], join(SHIPPED_BENCHMARK_DIR, name, 'test.jsonl'));
    sets.push({ name, items: bench.problems.map((p) => ({ id: p.id, gold: p.gold })) });
  }
  return sets;
}

const boxedResponse = (gold: string) => `Step by step, we get there. The final answer is \\boxed{${gold}}.`;

describe('real gold answers verify against themselves through the reward path', () => {
  let grader: Grader;
  before(async () => {
    grader = await Grader.create({ extract: 'boxed', rules: ORIGINAL_REWARD_RULES, threads: 1 });
  });
  after(() => grader.close());

  test('each set at >= 99.5%, failures exactly the listed ones', async () => {
    for (const set of await goldSets()) {
      const graded = await grader.grade(
        set.items.map((i) => ({ gold: i.gold, response: boxedResponse(i.gold) })),
      );
      const failed = set.items
        .map((item, k) => ({ ...item, graded: graded[k] }))
        .filter((f) => f.graded.reward !== ORIGINAL_REWARD_RULES.correct);
      const rate = (set.items.length - failed.length) / set.items.length;
      console.log(
        `${set.name}: ${set.items.length - failed.length}/${set.items.length} (${(100 * rate).toFixed(2)}%)`,
      );
      const listed = failed.map(
        (f) => `${f.id} ${JSON.stringify(f.gold)} → ${f.graded.reason} (${f.graded.extracted})`,
      );
      assert.ok(rate >= MIN_RATE, `${set.name}: ${(100 * rate).toFixed(2)}% < 99.5%`);
      assert.deepEqual(
        failed.map((i) => i.id).sort(),
        Object.keys(EXPECTED_FAILURES[set.name] ?? {}).sort(),
        `${set.name}: failures differ from the expected list: ${listed.join('; ')}`,
      );
    }
  });
});
