import { type Command, InvalidArgumentError } from 'commander';
import { parsePositiveInt } from '../options.ts';

function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.some((n) => !Number.isInteger(n) || n < 0))
    throw new InvalidArgumentError(`expected integers ≥ 0 separated by commas, got ${text}`);
  return seeds;
}

interface DemoBaseCliOptions {
  seeds: number[];
  threads?: number;
  into: string;
  check?: boolean;
}

/** `simplerl demo-base`: (re)make the demo's shipped base models, or check that this code reproduces them. */
export function register(program: Command): void {
  program
    .command('demo-base')
    .description(
      "pre-train the demo's base models (what `simplerl demo` would pre-train and cache) into the folder of " +
        'shipped bases, replacing the shipped base of the same spec and corpus; says whether the new weights are ' +
        'byte-identical to it. The shipped bases were made with --threads 2 (assets/demo-bases/README.md)',
    )
    .option('--seeds <list>', 'base model seeds, comma-separated', parseSeeds, [0, 1, 2])
    .option('--threads <n>', 'torch threads (default: the cores that are free now)', parsePositiveInt)
    .option('--into <dir>', 'folder of shipped bases (default: assets/demo-bases of this checkout)')
    .option('--check', 'only compare with the shipped bases; write nothing')
    .action(async (opts: DemoBaseCliOptions) => {
      const { EngineClient } = await import('../../engine/index.ts');
      const { DEFAULT_BASE_SPEC, SHIPPED_BASES_DIR } = await import('../../demo/base-model.ts');
      const { describeShip, makeShippedBase } = await import('../../demo/ship-base.ts');
      const { pickThreads } = await import('../../engine/threads.ts');
      const threads = await pickThreads(opts.threads);
      console.error(`simplerl demo-base: ${threads.message}`);
      const engine = await EngineClient.start({ device: 'cpu', threads: threads.threads });
      let numDiffer = 0;
      try {
        const hello = await engine.hello();
        for (const seed of opts.seeds) {
          const spec = { ...DEFAULT_BASE_SPEC, seed };
          const every = Math.max(1, Math.round(spec.steps / 10));
          const result = await makeShippedBase({
            spec,
            engine,
            hello,
            shippedDir: opts.into ?? SHIPPED_BASES_DIR,
            isCheck: opts.check ?? false,
            onStep: (step, loss) => {
              if (step % every === 0)
                console.error(
                  `simplerl demo-base: seed ${seed} step ${step}/${spec.steps} loss ${loss.toFixed(3)}`,
                );
            },
          });
          if (result.isReproduced === false) numDiffer++;
          console.log(`${describeShip(result)}${result.writtenTo ? `; written to ${result.writtenTo}` : ''}`);
        }
      } finally {
        await engine.shutdown().catch(() => {});
      }
      // a check that does not reproduce is not an error of the command, but scripts may want to know
      if (opts.check && numDiffer > 0) process.exitCode = 3;
    });
}
