// `simplerl serve MODEL_DIR`: OpenAI-compatible /v1/completions and /v1/chat/completions over the engine.
import type { Command } from 'commander';
import { DEFAULT_SERVE_LIMITS, SERVE_LIMIT_FLAGS, type ServeLimits } from '../../sft/serve-limits.ts';
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
  const cmd = program
    .command('serve')
    .description(
      'serve a checkpoint (Hugging Face folder with tokenizer files) through an OpenAI-compatible endpoint: ' +
        'POST /v1/completions, POST /v1/chat/completions (both with stream), GET /v1/models. Used as the teacher of `simplerl distill`.',
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
    .addOption(dtypeOption());
  for (const [key, { flag, help }] of Object.entries(SERVE_LIMIT_FLAGS))
    cmd.option(flag, help, parsePositiveInt, DEFAULT_SERVE_LIMITS[key as keyof ServeLimits]);
  cmd.action(
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
      } & ServeLimits,
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
        limits: {
          maxBodyBytes: opts.maxBodyBytes,
          maxRequestTokens: opts.maxRequestTokens,
          maxQueuedTokens: opts.maxQueuedTokens,
          maxBatchRows: opts.maxBatchRows,
        },
      });
      process.stderr.write(
        `simplerl serve: model "${handle.modelName}" at ${handle.url}/v1 (Ctrl-C stops)\n`,
      );
      process.stdout.write(`${SERVE_READY_LINE} ${handle.url}\n`);
      await closeOnSignal(() => handle.close());
    },
  );
}
