// Graded pairs per second: simplerl's verifier vs Math-Verify on the same pairs, in the same run.
//   node --import tsx bench/verifier/bench.ts [--pairs 1000] [--threads 2]
// Pairs: the differential corpus (tests/verifier/corpus.jsonl), `any` extraction for both.
// Math-Verify runs in one Python process (tests/verifier/mathverify_oracle.py); its rate counts
// parse + verify time per pair (interpreter start and imports excluded). simplerl is measured
// in-thread on one core, and through the Grader worker pool (which includes message passing).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Grader, verify } from '../../src/reward/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: { pairs: { type: 'string', default: '1000' }, threads: { type: 'string', default: '2' } },
});
const numPairs = Number(values.pairs);
const threads = Number(values.threads);
const python = process.env.SIMPLERL_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');

const corpus = readFileSync(join(ROOT, 'tests', 'verifier', 'corpus.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: number; gold: string; pred: string });
const pairs = Array.from({ length: numPairs }, (_, i) => corpus[i % corpus.length]);

// simplerl, in-thread (warm-up pass first: JIT and regex compilation are one-time costs).
for (const p of pairs.slice(0, 200)) verify(p.gold, p.pred, { extract: 'any' });
let t0 = performance.now();
const ours = pairs.map((p) => verify(p.gold, p.pred, { extract: 'any' }).correct);
const inThreadRate = numPairs / ((performance.now() - t0) / 1000);

// simplerl, Grader pool.
const grader = await Grader.create({ threads, extract: 'any', timeoutMs: 3000 });
t0 = performance.now();
await grader.grade(pairs.map((p) => ({ gold: p.gold, response: p.pred })));
const poolRate = numPairs / ((performance.now() - t0) / 1000);
await grader.close();

// Math-Verify on the same pairs.
const tmp = mkdtempSync(join(tmpdir(), 'simplerl-bench-'));
let mvRate = Number.NaN;
let agreement = Number.NaN;
try {
  writeFileSync(join(tmp, 'in.jsonl'), pairs.map((p, i) => JSON.stringify({ ...p, id: i })).join('\n'));
  t0 = performance.now();
  execFileSync(
    python,
    [join(ROOT, 'tests', 'verifier', 'mathverify_oracle.py'), join(tmp, 'in.jsonl'), join(tmp, 'out.jsonl')],
    { stdio: 'inherit' },
  );
  const wall = (performance.now() - t0) / 1000;
  const mv = readFileSync(join(tmp, 'out.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { mv: boolean; seconds: number });
  mvRate = numPairs / mv.reduce((s, r) => s + r.seconds, 0);
  agreement = mv.filter((r, i) => r.mv === ours[i]).length / numPairs;
  console.log(`math-verify wall time incl. interpreter start: ${wall.toFixed(1)} s`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

console.log(
  `pairs: ${numPairs} (tests/verifier/corpus.jsonl, extract any); machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
);
console.log(`math-verify (python, 1 process):      ${mvRate.toFixed(0).padStart(8)} pairs/s`);
console.log(
  `simplerl verify (in-thread, 1 core):  ${inThreadRate.toFixed(0).padStart(8)} pairs/s   ratio ${(inThreadRate / mvRate).toFixed(1)}×`,
);
console.log(
  `simplerl Grader (${threads} worker threads):   ${poolRate.toFixed(0).padStart(8)} pairs/s   ratio ${(poolRate / mvRate).toFixed(1)}×`,
);
console.log(`agreement with math-verify on these pairs: ${(100 * agreement).toFixed(2)}%`);
