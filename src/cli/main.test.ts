import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { REPO_ROOT } from '../engine/index.ts';
import { buildProgram, packageVersion } from './main.ts';

/** Runs argv through the program; → what commander printed, and the error it stopped with. */
async function parse(argv: string[]): Promise<{ out: string; err: Error | undefined }> {
  let out = '';
  const program = await buildProgram();
  const quiet = (c: Command) =>
    c.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  quiet(program);
  for (const c of program.commands) quiet(c);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { out, err: undefined };
  } catch (err) {
    return { out, err: err as Error };
  }
}

describe('simplerl (the program)', () => {
  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string };
    assert.equal(packageVersion(), version);
    const { out } = await parse(['--version']);
    assert.equal(out.trim(), version);
  });

  for (const [argv, allowed] of [
    [['serve', 'model-dir', '--device', 'gpu'], 'auto, cpu, cuda'],
    [['sft', '--data', 'x', '--model', 'm', '--out', 'o', '--dtype', 'fp16'], 'auto, float32, bfloat16'],
    [['plan', 'c.yaml', '--device', 'tpu'], 'cuda, cpu'],
    [['eval', '--extract', 'last'], 'boxed, any'],
  ] as const) {
    it(`${argv[0]} rejects ${argv.at(-2)} ${argv.at(-1)} with the allowed choices`, async () => {
      const { err } = await parse([...argv]);
      assert.match(err?.message ?? '', new RegExp(`Allowed choices are ${allowed}\\.`));
    });
  }
});
