// `simplerl plan CONFIG [--set k=v ...]`: memory per device of a run, before it starts.
import { type Command, Option } from 'commander';
import { collect } from '../options.ts';

export function register(program: Command): void {
  program
    .command('plan')
    .description(
      "estimate the memory per device of a run from the model's config.json and the run's settings: weights, " +
        'gradients, optimizer state, activations, logits, KV cache; says whether it fits and which knob to turn.',
    )
    .argument('<config>', 'YAML config (e.g. configs/zero.yaml)')
    .option('--set <key=value>', 'override one config key (repeatable)', collect, [])
    .option('--model-config <file>', "the model's config.json (default: <model.path>/config.json)")
    .option('--device-gb <n>', 'memory of one device in GB (10^9 bytes)', '80')
    .addOption(
      new Option('--device <kind>', 'default: cpu when engine.device is cpu, else cuda').choices([
        'cuda',
        'cpu',
      ]),
    )
    .option('--offload', 'optimizer state and fp32 master weights in host memory')
    .option('--json', 'print the plan as JSON')
    .action(
      async (
        configFile: string,
        opts: {
          set: string[];
          modelConfig?: string;
          deviceGb: string;
          device?: 'cuda' | 'cpu';
          offload?: boolean;
          json?: boolean;
        },
      ) => {
        const { readFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        const { loadConfig, resolveConfig } = await import('../../config/index.ts');
        const { formatPlan, modelShapeFromHf, planMemory } = await import('../../plan/memory.ts');
        const cfg = resolveConfig(loadConfig(configFile, { sets: opts.set }), configFile);
        const modelConfigFile =
          opts.modelConfig ?? (cfg.model.path ? join(cfg.model.path, 'config.json') : null);
        if (!modelConfigFile)
          throw new Error(`${configFile}: model.path is not set (or pass --model-config FILE)`);
        let hf: Record<string, unknown>;
        try {
          hf = JSON.parse(readFileSync(modelConfigFile, 'utf8'));
        } catch (err) {
          throw new Error(`${modelConfigFile}: ${(err as Error).message}`);
        }
        const device = opts.device ?? (cfg.engine.device === 'cpu' ? 'cpu' : 'cuda');
        const deviceGb = Number(opts.deviceGb);
        if (!(deviceGb > 0)) throw new Error(`--device-gb must be a positive number, got ${opts.deviceGb}`);
        const dtype =
          cfg.model.dtype === 'auto' ? (device === 'cuda' ? 'bfloat16' : 'float32') : cfg.model.dtype;
        const plan = planMemory(modelShapeFromHf(hf, modelConfigFile), {
          numRanks: cfg.engine.nproc,
          device,
          computeBytes: dtype === 'bfloat16' ? 2 : 4,
          algo: cfg.algo.name,
          withRef: cfg.algo.kl.coef > 0,
          promptsPerStep: cfg.algo.prompts_per_step,
          numSamples: cfg.algo.n_samples,
          maxPromptTokens: cfg.rollout.max_prompt_tokens,
          maxNewTokens: cfg.rollout.max_new_tokens,
          microBatchTokens: cfg.optim.micro_batch_tokens,
          gradCheckpointing: cfg.optim.grad_checkpointing,
          offloadOptimizer: opts.offload === true,
          deviceBytes: deviceGb * 1e9,
          maxRowsPerWave: cfg.rollout.max_rows_per_wave,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n`);
      },
    );
}
