import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';

/**
 * The `simplerl` command. Each sub-command lives in `src/cli/commands/<name>.ts` and exports
 * `register(program)`; command modules keep heavy imports inside their action so start-up stays fast.
 */
export async function buildProgram(): Promise<Command> {
  const program = new Command('simplerl')
    .description('TypeScript-first RL that teaches language models to reason')
    .showHelpAfterError()
    .showSuggestionAfterError();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { register?: (p: Command) => void };
    if (typeof mod.register !== 'function')
      throw new Error(`src/cli/commands/${file} must export register(program)`);
    mod.register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    console.error(`simplerl: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
