import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';

/** The package's version (package.json sits two folders up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** A command module: `<name>.ts` from the sources, `<name>.js` from the build; never a test or a .d.ts. */
function isCommandFile(file: string, ext: string): boolean {
  return file.endsWith(ext) && !file.endsWith(`.test${ext}`) && !file.endsWith('.d.ts');
}

/**
 * The `simplerl` command. Each sub-command lives in `src/cli/commands/<name>.ts` and exports
 * `register(program)`; command modules keep heavy imports inside their action so start-up stays fast.
 */
export async function buildProgram(): Promise<Command> {
  const program = new Command('simplerl')
    .description('TypeScript-first RL that teaches language models to reason')
    .version(packageVersion())
    .showHelpAfterError()
    .showSuggestionAfterError();
  const self = fileURLToPath(import.meta.url);
  const dir = join(dirname(self), 'commands');
  for (const file of readdirSync(dir).sort()) {
    if (!isCommandFile(file, extname(self))) continue;
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { register?: (p: Command) => void };
    if (typeof mod.register !== 'function')
      throw new Error(`${join(dir, file)} must export register(program)`);
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
