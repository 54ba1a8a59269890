// Differential test against Math-Verify (the reference grader). Its verdicts on the generated
// corpus are precomputed by tests/verifier/write-corpus.ts (math-verify grades ~55 pairs/s, too
// slow to run on thousands of pairs in CI); a live spot check re-runs it on a sample when the
// Python environment has it. Every disagreement is reported; each must be one of Math-Verify's
// known bugs below (the cases where a human grader sides with us), or the test fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verify } from '../../src/reward/index.ts';
import type { Pair } from './corpus.ts';

const DIR = import.meta.dirname;
const ROOT = join(DIR, '..', '..');
const PYTHON = process.env.SIMPLERL_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');

interface MvVerdict {
  id: number;
  mv: boolean;
  mv_gold: string;
  mv_pred: string;
}

const readJsonl = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

/** Math-Verify's bugs found by this corpus: in each, Math-Verify says "not equal" and a human says "equal". */
const MATH_VERIFY_BUGS: { name: string; matches: (p: Pair, mv: MvVerdict) => boolean }[] = [
  // latex2sympy has no rule for the unicode degree sign: "135°" fails to parse, so nothing is extracted.
  { name: 'unicode degree sign', matches: (p) => p.pred.includes('°') },
  // "9.8 \times 10^{5}" stays the unevaluated float product 9.8*10**5 and never equals 980000.
  {
    name: 'scientific notation vs its integer',
    matches: (p) => /\\times 10\^/.test(p.gold) && /^\d+$/.test(p.pred.match(/(\d+)\D*$/)?.[1] ?? ''),
  },
  // A double inequality written the other way round (b ≥ x ≥ a) is compared link by link in order.
  { name: 'reversed double inequality', matches: (p) => /\\ge x \\ge/.test(p.pred) },
  // The expression regex keeps the sentence's full stop ("25/12.") and the parse then fails.
  { name: 'full stop after a plain fraction', matches: (_p, mv) => /^-?\d+\/\d+\.$/.test(mv.mv_pred) },
  // A unit in \text / \mbox inside display math is not stripped and the parse fails.
  { name: 'unit inside display math', matches: (_p, mv) => /\\(?:mbox|text)\{[^}]*\}\s*$/.test(mv.mv_pred) },
];

describe('differential test against Math-Verify', () => {
  const corpus = readJsonl<Pair>(join(DIR, 'corpus.jsonl'));
  const verdicts = new Map(
    readJsonl<MvVerdict>(join(DIR, 'mathverify-verdicts.jsonl')).map((v) => [v.id, v]),
  );

  it('has a Math-Verify verdict for every pair of the corpus', () => {
    assert.ok(corpus.length >= 3000, `corpus has ${corpus.length} pairs`);
    for (const p of corpus) assert.ok(verdicts.has(p.id), `no verdict for pair ${p.id}`);
  });

  it('agrees except on listed Math-Verify bugs (every disagreement is reported)', (t) => {
    const unexplained: string[] = [];
    const byBug = new Map<string, number>();
    let disagreements = 0;
    for (const p of corpus) {
      const mv = verdicts.get(p.id)!;
      const ours = verify(p.gold, p.pred, { extract: 'any' });
      if (ours.correct === mv.mv) continue;
      disagreements++;
      const bug = !mv.mv && ours.correct ? MATH_VERIFY_BUGS.find((b) => b.matches(p, mv)) : undefined;
      const line = `#${p.id} [${p.category}] gold=${JSON.stringify(p.gold)} pred=${JSON.stringify(p.pred.slice(-120))} math-verify=${mv.mv} (read ${JSON.stringify(mv.mv_pred)}) simplerl=${ours.correct} (read ${JSON.stringify(ours.extracted)})`;
      t.diagnostic(`${bug ? `math-verify bug "${bug.name}"` : 'UNEXPLAINED'}: ${line}`);
      if (bug) byBug.set(bug.name, (byBug.get(bug.name) ?? 0) + 1);
      else unexplained.push(line);
    }
    const agreement = 1 - disagreements / corpus.length;
    t.diagnostic(
      `agreement ${(100 * agreement).toFixed(2)}% on ${corpus.length} pairs; ${disagreements} disagreements: ${JSON.stringify(Object.fromEntries(byBug))}`,
    );
    assert.deepEqual(
      unexplained,
      [],
      `disagreements that are not known Math-Verify bugs:\n${unexplained.join('\n')}`,
    );
    assert.ok(agreement >= 0.98, `agreement ${agreement}`);
  });

  const hasMathVerify =
    existsSync(PYTHON) &&
    (() => {
      try {
        execFileSync(PYTHON, ['-c', 'import math_verify'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();

  it('stored verdicts are what math-verify says now (live spot check of 40 pairs)', {
    skip: hasMathVerify ? false : 'math-verify is not installed in the Python environment',
  }, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'simplerl-mv-'));
    try {
      const step = Math.floor(corpus.length / 40);
      const sample = corpus.filter((_, i) => i % step === 0).slice(0, 40);
      writeFileSync(join(tmp, 'in.jsonl'), sample.map((p) => JSON.stringify(p)).join('\n'));
      execFileSync(
        PYTHON,
        [join(DIR, 'mathverify_oracle.py'), join(tmp, 'in.jsonl'), join(tmp, 'out.jsonl')],
        { stdio: 'ignore', timeout: 60_000 },
      );
      for (const live of readJsonl<MvVerdict>(join(tmp, 'out.jsonl')))
        assert.equal(live.mv, verdicts.get(live.id)!.mv, `pair ${live.id}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
