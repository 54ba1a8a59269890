// `simplerl export --merge RUN_OR_CKPT --out DIR`: a LoRA run's adapter merged into its base model.
import type { Command } from 'commander';

interface ExportOptions {
  merge?: boolean;
  out: string;
  base?: string;
  device: 'cpu' | 'cuda' | 'auto';
}

export function register(program: Command): void {
  program
    .command('export')
    .description(
      "write a LoRA run's policy as a plain Hugging Face model: the PEFT adapter of the run's latest checkpoint " +
        '(or of the given checkpoint / adapter folder) merged into its base model (W + alpha/r · B·A)',
    )
    .argument(
      '<run-or-checkpoint>',
      'run folder, checkpoint folder (checkpoints/step-N) or PEFT adapter folder',
    )
    .requiredOption('--merge', 'merge the adapter into the base weights (the only export there is)')
    .requiredOption('--out <dir>', 'output folder (replaced if it exists)')
    .option('--base <dir>', "base model folder (default: the adapter_config.json's base_model_name_or_path)")
    .option('--device <kind>', 'engine device: cpu, cuda or auto', 'cpu')
    .action(async (runOrCheckpoint: string, opts: ExportOptions) => {
      const { EngineClient } = await import('../../engine/index.ts');
      const { exportMerged } = await import('../../run/export-merged.ts');
      const engine = await EngineClient.start({ device: opts.device });
      try {
        const r = await exportMerged(engine, runOrCheckpoint, opts.out, opts.base);
        console.error(`simplerl export: ${r.adapter} merged into ${r.base}`);
        console.log(JSON.stringify({ out: r.out, bytes: r.bytes }));
      } finally {
        await engine.shutdown().catch(() => {});
      }
    });
}
