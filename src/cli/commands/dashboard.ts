import { type Command, InvalidArgumentError } from 'commander';

export const BAD_PORT = 'port must be an integer from 0 to 65535';

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`${BAD_PORT}, got ${text}`);
  return port;
}

/** `simplerl dashboard [runs]`: serves the live dashboard until interrupted. */
export function register(program: Command): void {
  program
    .command('dashboard')
    .description('serve a local web page with live training curves, a rollout browser and eval tables')
    .argument('[runs]', 'directory of runs (or one run directory)', 'runs')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 6060)
    .option('--host <host>', 'address to bind; anything but loopback needs --allow-remote', '127.0.0.1')
    .option(
      '--allow-remote',
      'allow a non-loopback --host (the page shows prompts and responses to anyone)',
      false,
    )
    .action(async (runsDir: string, options: { port: number; host: string; allowRemote: boolean }) => {
      const { startDashboard } = await import('../../dashboard/serve.ts');
      const dashboard = await startDashboard({ runsDir, ...options });
      console.log(`simplerl dashboard: ${dashboard.url} (runs from ${runsDir}; Ctrl-C stops)`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          dashboard.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
