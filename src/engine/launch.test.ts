// The engine as 2 gloo ranks under torchrun (CPU, tiny model) against a single-process engine: same
// samples, same training step, a checkpoint that a fresh engine loads, and SIGKILL of rank 1 mid-step
// ending the run with an error that names rank 1.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tinyModelConfig } from '../../tests/fixtures/tiny-model.ts';
import type { EngineClient } from './client.ts';
import { EngineDiedError, EngineError } from './errors.ts';
import { parseRankFailure, startEngineRanks, TORCHRUN_ARGS_ENV, torchrunArgs } from './launch.ts';
import { fromRagged, toRagged } from './ragged.ts';
import type { TrainBatch } from './types.ts';

// untied embeddings (the Qwen2 default), unlike most tests' tiny models
const TINY = tinyModelConfig(16, { maxPositions: 128, tieEmbeddings: false });

test('torchrun arguments: standalone on one node, rendezvous options from the environment', () => {
  assert.deepEqual(torchrunArgs(2, {}), [
    '-m',
    'simplerl_engine.launch',
    '--standalone',
    '--nproc-per-node=2',
  ]);
  assert.deepEqual(torchrunArgs(8, { [TORCHRUN_ARGS_ENV]: ' --nnodes 2  --node-rank 0 ' }), [
    '-m',
    'simplerl_engine.launch',
    '--nnodes',
    '2',
    '--node-rank',
    '0',
    '--nproc-per-node=8',
  ]);
  assert.throws(() => torchrunArgs(0, {}), /engine.nproc/);
});

test('parseRankFailure reads the launcher line and the rank tail', () => {
  const f = parseRankFailure(
    'noise\nsimplerl_engine: rank 1 failed: exit code -9 (SIGKILL), pid 12; its last stderr lines:\n  | a\n  | b\nafter',
  );
  assert.deepEqual(f, { rank: 1, exitCode: -9, signal: 'SIGKILL', stderrTail: ['a', 'b'] });
  assert.equal(parseRankFailure('all fine'), null);
});

describe('two ranks under torchrun (gloo, CPU)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-launch-'));
  const engines: EngineClient[] = [];
  const logs: string[] = [];
  const start = async (nproc: number) => {
    const e = await startEngineRanks(nproc, {
      device: 'cpu',
      threads: 1,
      onLog: (line) => logs.push(line),
      heartbeatTimeoutMs: 60000,
    });
    engines.push(e);
    return e;
  };
  after(async () => {
    for (const e of engines) await e.kill().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  test('same samples and update as one process; rank 1 killed mid-step is named', async () => {
    const [one, two] = [await start(1), await start(2)];
    assert.equal((await two.hello()).worldSize, 2);
    const prompts = [[1, 2, 3], [4, 5], [6], [7, 8, 9, 10]];
    const gens = [];
    for (const e of [one, two]) {
      await e.load({ role: 'policy', config: TINY, seed: 1, optim: { lr: 1e-2 } });
      gens.push(await e.generate(toRagged(prompts), { n: 2, maxNewTokens: 6, temperature: 1, seed: 5 }));
    }
    assert.deepEqual(gens[1].ids, gens[0].ids);
    assert.deepEqual(gens[1].offsets, gens[0].offsets);
    const responses = fromRagged(gens[0]);
    const seqs = responses.map((r, i) => [...prompts[Math.floor(i / 2)], ...r]);
    const T = gens[0].ids.length;
    const batch: TrainBatch = {
      ...toRagged(seqs),
      promptLens: Int32Array.from(responses.map((_, i) => prompts[Math.floor(i / 2)].length)),
      advantages: Float32Array.from({ length: T }, (_, k) => (k % 3) - 1),
      oldLogprobs: gens[0].logprobs,
    };
    const stats = [];
    for (const e of [one, two]) stats.push(await e.train(batch, { role: 'policy', loss: 'ppo' }));
    assert.ok(Math.abs(stats[1].loss - stats[0].loss) < 1e-5, `${stats[1].loss} vs ${stats[0].loss}`);
    assert.ok(Math.abs(stats[1].gradNorm - stats[0].gradNorm) < 1e-5 * stats[0].gradNorm);
    assert.equal(stats[1].numTokens, stats[0].numTokens);
    const after1 = await two.generate(toRagged(prompts), { n: 2, maxNewTokens: 6, temperature: 1, seed: 5 });
    const after0 = await one.generate(toRagged(prompts), { n: 2, maxNewTokens: 6, temperature: 1, seed: 5 });
    assert.deepEqual(after1.ids, after0.ids, 'generation weights refreshed after the update');

    const ckpt = join(dir, 'step-1', 'policy');
    await two.save({ role: 'policy', path: ckpt, optimizer: true });
    assert.ok(existsSync(join(ckpt, 'model.safetensors')) && existsSync(join(ckpt, 'optimizer.pt')));

    // SIGKILL rank 1 in the middle of a train step
    const rank1 = logs.map((l) => /pid (\d+) rank 1\/2/.exec(l)).find((m) => m !== null);
    assert.ok(rank1, 'rank 1 announced its pid');
    const t0 = Date.now();
    const pending = Promise.all(
      Array.from({ length: 20 }, () => two.train(batch, { role: 'policy', loss: 'ppo' })),
    );
    setTimeout(() => process.kill(Number(rank1[1]), 'SIGKILL'), 300);
    const err = await pending.then(
      () => null,
      (e: unknown) => e,
    );
    // rank 0 answers with an error naming rank 1 (peer heartbeats) if it gets to, then the run ends and the
    // launcher's line names the rank that failed first
    assert.ok(err instanceof EngineDiedError || err instanceof EngineError, `got ${err}`);
    if (err instanceof EngineError) assert.match(err.message, /rank 1 stopped responding/);
    const died = await two.hello().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(died instanceof EngineDiedError, `expected EngineDiedError, got ${died}`);
    assert.ok(Date.now() - t0 < 60000, 'ended within 60 s');
    const failure = parseRankFailure(died.stderrTail);
    assert.equal(failure?.rank, 1, died.message);
    assert.equal(failure?.signal, 'SIGKILL');
    assert.match(died.message, /rank 1 failed: exit code -9/);

    // the checkpoint written before the failure is intact: one process loads it and continues
    await one.load({ role: 'policy', path: ckpt, optim: { lr: 1e-2 } });
    const resumed = await one.generate(toRagged(prompts), { n: 2, maxNewTokens: 6, temperature: 1, seed: 5 });
    assert.deepEqual(resumed.ids, after0.ids);
    await one.shutdown();
  });
});
