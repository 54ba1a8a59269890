// Regenerates the differential corpus and its Math-Verify verdicts (math-verify must be installed):
//   node --import tsx tests/verifier/write-corpus.ts [count]
// Writes tests/verifier/corpus.jsonl and tests/verifier/mathverify-verdicts.jsonl (both committed,
// so CI compares against Math-Verify without running it on every pair; ~55 pairs/s here).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCorpus } from './corpus.ts';

const dir = import.meta.dirname;
const count = Number(process.argv[2] ?? 4000);
const corpusPath = join(dir, 'corpus.jsonl');
const verdictsPath = join(dir, 'mathverify-verdicts.jsonl');
const lines = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

writeFileSync(corpusPath, lines(generateCorpus(count)));
console.error(`wrote ${count} pairs to ${corpusPath}; running math-verify (slow)...`);
const python = process.env.SIMPLERL_PYTHON ?? join(dir, '..', '..', '.venv', 'bin', 'python');
execFileSync(python, [join(dir, 'mathverify_oracle.py'), corpusPath, verdictsPath], { stdio: 'inherit' });
// Timings vary from run to run; the committed file keeps only the verdicts, so it is reproducible.
const verdicts = readFileSync(verdictsPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => ({ ...JSON.parse(l), seconds: undefined }));
writeFileSync(verdictsPath, lines(verdicts));
console.error(`wrote ${verdictsPath}`);
