// `simplerl serve MODEL_DIR`: an OpenAI-compatible /v1/completions endpoint over the engine.
import type { Command } from 'commander';
import { closeOnSignal } from '../close-on-signal.ts';
import {
  type DeviceChoice,
  type DtypeChoice,
  deviceOption,
  dtypeOption,
  parsePort,
  parsePositiveInt,
} from '../options.ts';

/** Printed on stdout once the server listens: `SIMPLERL_SERVE_READY <url>`. */
export const SERVE_READY_LINE = 'SIMPLERL_SERVE_READY';

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'serve a checkpoint (Hugging Face folder with tokenizer files) through an OpenAI-compatible endpoint: ' +
        'POST /v1/completions, GET /v1/models. Used as the teacher of `simplerl distill`.',
    )
    .argument(
      '<model_dir>',
      'Hugging Face folder: config.json, *.safetensors, tokenizer.json, tokenizer_config.json',
    )
    .option('--port <n>', 'TCP port (0: any free port)', parsePort, 8000)
    .option('--host <host>', 'address to bind; anything but loopback needs --allow-remote', '127.0.0.1')
    .option('--allow-remote', 'allow a non-loopback --host (the endpoint has no authentication)', false)
    .option('--served-model-name <name>', 'model name in /v1/models and requests (default: the folder name)')
    .addOption(deviceOption())
    .option('--threads <n>', 'torch threads on CPU', parsePositiveInt)
    .addOption(dtypeOption())
    .action(
      async (
        modelDir: string,
        opts: {
          port: number;
          host: string;
          allowRemote: boolean;
          servedModelName?: string;
          device: DeviceChoice;
          threads?: number;
          dtype: DtypeChoice;
        },
      ) => {
        const { checkHost } = await import('../../util/net.ts');
        checkHost(opts.host, opts.allowRemote, 'serve');
        const { device, dtype } = opts;
        const { serveModel } = await import('../../sft/serve.ts');
        const handle = await serveModel({
          modelDir,
          port: opts.port,
          host: opts.host,
          modelName: opts.servedModelName,
          device,
          threads: opts.threads,
          dtype,
        });
        process.stderr.write(
          `simplerl serve: model "${handle.modelName}" at ${handle.url}/v1 (Ctrl-C stops)\n`,
        );
        process.stdout.write(`${SERVE_READY_LINE} ${handle.url}\n`);
        await closeOnSignal(() => handle.close());
      },
    );
}
