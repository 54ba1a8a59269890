import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_MATH_OUT } from '../../data/math-build.ts';

export const BAD_COUNT = 'expected a non-negative integer';

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${BAD_COUNT}, got ${text}`);
  return n;
}

interface MathOptions {
  source: string;
  out: string;
  exclude?: string;
  levels: number[];
  sourceRepo?: string;
  sourceCommit?: string;
  sourcePath?: string;
}

function parseLevels(text: string): number[] {
  return text.split(',').map((t) => parseCount(t.trim()));
}

interface SynthOptions {
  out: string;
  seed: number;
  count: number;
  testCount: number;
  hardCount: number;
  corpus: number;
}

/** `simplerl data synth`: the demo's procedural problems (and, on request, its pre-training corpus). */
export function register(program: Command): void {
  const data = program.command('data').description('datasets: make and inspect problem files');
  data
    .command('synth')
    .description(
      'write procedural math problems with exact answers: train.jsonl, test.jsonl (held out by a hash of ' +
        'the text) and hard.jsonl (longer chains, larger numbers than train)',
    )
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'seed of the draw', parseCount, 0)
    .option('--count <n>', 'training problems', parseCount, 8000)
    .option('--test-count <n>', 'held-out problems like the training ones', parseCount, 500)
    .option('--hard-count <n>', 'held-out problems harder than the training ones', parseCount, 500)
    .option(
      '--corpus <n>',
      'also write corpus.jsonl with this many pre-training documents (0: none)',
      parseCount,
      0,
    )
    .action(async (opts: SynthOptions) => {
      const { writeSynthFiles } = await import('../../demo/synth-files.ts');
      const result = await writeSynthFiles({
        out: opts.out,
        seed: opts.seed,
        counts: { train: opts.count, test: opts.testCount, hard: opts.hardCount },
        numCorpusDocs: opts.corpus,
      });
      for (const [name, file] of Object.entries(result.files))
        console.log(`${file}\t${result.counts[name]} lines`);
    });
  registerMath(data);
}

/** `simplerl data math`: the SimpleRL-Zero training set (MATH levels 3-5 minus MATH500), see src/data/math-build.ts. */
function registerMath(data: Command): void {
  data
    .command('math')
    .description(
      'build the SimpleRL-Zero training set from MATH (original train/ and test/ folders of JSON files, or ' +
        'Hugging Face Parquet files): levels 3-5 of train and test, minus MATH500, answer = final \\boxed{}, ' +
        'duplicates removed; writes the JSONL and a manifest beside it',
    )
    .requiredOption(
      '--source <dir>',
      'MATH folder: train/ and test/ by subject, or *.parquet files (train*/test*)',
    )
    .option('--out <file>', 'output JSONL (manifest: <file>.manifest.json)', DEFAULT_MATH_OUT)
    .option('--exclude <file>', 'MATH500 list (JSONL with unique_id, problem); default: the shipped one')
    .option('--levels <list>', 'levels to keep', parseLevels, [3, 4, 5])
    .option('--source-repo <owner/name>', 'recorded in the manifest: where the source came from')
    .option('--source-commit <sha>', 'recorded in the manifest: the commit of the source')
    .option('--source-path <path>', 'recorded in the manifest: the folder inside that repository')
    .action(async (opts: MathOptions) => {
      const { DEFAULT_MATH500_FILE, writeMathSet } = await import('../../data/math-build.ts');
      const manifest = await writeMathSet({
        ...opts,
        exclude: opts.exclude ?? DEFAULT_MATH500_FILE,
        buildCommand: `simplerl data math ${process.argv.slice(4).join(' ')}`.trim(),
      });
      console.log(`${opts.out}\t${manifest.count} problems\tsha256 ${manifest.sha256}`);
      console.log(JSON.stringify(manifest.counts));
    });
}
