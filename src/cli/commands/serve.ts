// `simplerl serve MODEL_DIR`: an OpenAI-compatible /v1/completions endpoint over the engine.
import { type Command, InvalidArgumentError } from 'commander';

/** Printed on stdout once the server listens: `SIMPLERL_SERVE_READY <url>`. */
export const SERVE_READY_LINE = 'SIMPLERL_SERVE_READY';

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port in [0, 65535], got ${text}`);
  return n;
}

function parsePositive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got ${text}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve a checkpoint (Hugging Face folder with tokenizer files) through an OpenAI-compatible endpoint: ' +
        'POST /v1/completions, GET /v1/models. Used as the teacher of `simplerl distill`.',
    )
    .argument(
      '<model_dir>',
      'Hugging Face folder: config.json, *.safetensors, tokenizer.json, tokenizer_config.json',
    )
    .option('--port <n>', 'TCP port (0: any free port)', parsePort, 8000)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--served-model-name <name>', 'model name in /v1/models and requests (default: the folder name)')
    .option('--device <device>', 'engine device: auto | cpu | cuda', 'auto')
    .option('--threads <n>', 'torch threads on CPU', parsePositive)
    .option('--dtype <dtype>', 'auto (bf16 on CUDA, fp32 on CPU) | float32 | bfloat16', 'auto')
    .action(
      async (
        modelDir: string,
        opts: {
          port: number;
          host: string;
          servedModelName?: string;
          device: string;
          threads?: number;
          dtype: string;
        },
      ) => {
        if (!['auto', 'cpu', 'cuda'].includes(opts.device))
          throw new Error(`--device must be auto, cpu or cuda, got ${opts.device}`);
        if (!['auto', 'float32', 'bfloat16'].includes(opts.dtype))
          throw new Error(`--dtype must be auto, float32 or bfloat16, got ${opts.dtype}`);
        const { serveModel } = await import('../../sft/serve.ts');
        const handle = await serveModel({
          modelDir,
          port: opts.port,
          host: opts.host,
          modelName: opts.servedModelName,
          device: opts.device as 'auto' | 'cpu' | 'cuda',
          threads: opts.threads,
          dtype: opts.dtype as 'auto' | 'float32' | 'bfloat16',
        });
        process.stderr.write(
          `simplerl serve: model "${handle.modelName}" at ${handle.url}/v1 (Ctrl-C stops)\n`,
        );
        process.stdout.write(`${SERVE_READY_LINE} ${handle.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            handle.close().then(resolve, resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      },
    );
}
