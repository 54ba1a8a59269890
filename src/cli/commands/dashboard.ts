import type { Command } from 'commander';
import { closeOnSignal } from '../close-on-signal.ts';
import { parsePort } from '../options.ts';

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
      await closeOnSignal(() => dashboard.close());
    });
}
