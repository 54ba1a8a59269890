import { type Command, InvalidArgumentError } from 'commander';

export const BAD_COUNT = 'expected a non-negative integer';

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${BAD_COUNT}, got ${text}`);
  return n;
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
}
