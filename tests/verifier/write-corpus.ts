// Regenerates the differential corpus and, when math-verify is installed, its verdicts:
//   node --import tsx tests/verifier/write-corpus.ts [count]
// Writes tests/verifier/corpus.jsonl and tests/verifier/mathverify-verdicts.jsonl (both committed,
// so CI compares against Math-Verify without running it on every pair).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCorpus } from './corpus.ts';

const dir = import.meta.dirname;
const count = Number(process.argv[2] ?? 3000);
const corpusPath = join(dir, 'corpus.jsonl');
writeFileSync(
  corpusPath,
  `${generateCorpus(count)
    .map((p) => JSON.stringify(p))
    .join('\n')}\n`,
);
console.error(`wrote ${count} pairs to ${corpusPath}; running math-verify (slow)...`);
const python = process.env.SIMPLERL_PYTHON ?? join(dir, '..', '..', '.venv', 'bin', 'python');
execFileSync(
  python,
  [join(dir, 'mathverify_oracle.py'), corpusPath, join(dir, 'mathverify-verdicts.jsonl')],
  { stdio: 'inherit' },
);
console.error('wrote tests/verifier/mathverify-verdicts.jsonl');
