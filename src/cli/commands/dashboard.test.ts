import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { REMOTE_HOST_REFUSED } from '../../dashboard/host.ts';
import { FIXTURE_RUNS } from '../../dashboard/test-helpers.ts';
import { PORT_IN_USE } from '../../util/net.ts';
import { BAD_PORT } from '../options.ts';
import { register } from './dashboard.ts';

function program(): Command {
  const p = new Command('simplerl')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(p);
  return p;
}

describe('simplerl dashboard', () => {
  it('refuses a non-loopback --host without --allow-remote', async () => {
    await assert.rejects(
      program().parseAsync(['dashboard', FIXTURE_RUNS, '--host', '0.0.0.0', '--port', '0'], { from: 'user' }),
      (err: Error) => err.message.startsWith(REMOTE_HOST_REFUSED),
    );
  });

  it('rejects a port that is not one', async () => {
    await assert.rejects(
      program().parseAsync(['dashboard', '--port', '99999'], { from: 'user' }),
      (err: Error) => err.message.includes(BAD_PORT),
    );
  });

  it('a port that is taken is named, with the fix', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const { port } = busy.address() as { port: number };
    try {
      await assert.rejects(
        program().parseAsync(['dashboard', FIXTURE_RUNS, '--port', String(port)], { from: 'user' }),
        (err: Error) =>
          err.message.startsWith(`${PORT_IN_USE}: 127.0.0.1:${port} is taken`) &&
          /--port 0/.test(err.message),
      );
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('serves the runs on loopback and stops on SIGINT', async () => {
    const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'simplerl.mjs');
    const child = spawn(process.execPath, [bin, 'dashboard', FIXTURE_RUNS, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.stderr.on('data', (chunk) => {
          out += chunk;
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const { runs } = (await (await fetch(new URL('/api/runs', url))).json()) as {
        runs: { name: string }[];
      };
      assert.deepEqual(
        runs.map((r) => r.name),
        ['zero-grpo', 'zero-ppo'],
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
