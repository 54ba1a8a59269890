// The client against the real engine (spawned Python, CPU, one thread, tiny random models).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tinyModelConfig } from '../../tests/fixtures/tiny-model.ts';
import { EngineClient, KILLED_FROM_OUTSIDE } from './client.ts';
import { ENGINE_DIED, ENGINE_HUNG, ENGINE_START_FAILED, EngineDiedError, EngineError } from './errors.ts';
import { encodeFrame } from './frames.ts';
import { fromRagged, toRagged } from './ragged.ts';
import type { TrainBatch } from './types.ts';

// untied embeddings (the Qwen2 default), unlike most tests' tiny models
const TINY = tinyModelConfig(16, { maxPositions: 128, tieEmbeddings: false });
const start = () => EngineClient.start({ device: 'cpu', threads: 1 });

/** prompt + response sequences of a generate call, with their prompt lengths. */
function joinSequences(prompts: number[][], responses: number[][], n: number) {
  const seqs = responses.map((r, i) => [...prompts[Math.floor(i / n)], ...r]);
  return {
    ...toRagged(seqs),
    promptLens: Int32Array.from(responses.map((_, i) => prompts[Math.floor(i / n)].length)),
  };
}

describe('EngineClient round trip of every op (real engine)', () => {
  let engine: EngineClient;
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-client-'));
  before(async () => {
    engine = await start();
  });
  after(async () => {
    await engine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('hello', async () => {
    const h = await engine.hello();
    assert.equal(h.protocol, 1);
    assert.equal(h.device, 'cpu');
    assert.equal(h.worldSize, 1);
    assert.equal(h.threads, 1);
    assert.match(h.torch, /^2\./);
  });

  test('load, generate, forward, train, save, stats', async () => {
    const policy = await engine.load({
      role: 'policy',
      config: TINY,
      seed: 1,
      optim: { lr: 1e-3, warmupSteps: 2 },
    });
    assert.ok(policy.numParams > 1000);
    assert.equal(policy.config.vocab_size, 16);
    await engine.load({ role: 'ref', config: TINY, seed: 1 });
    await engine.load({ role: 'critic', config: TINY, seed: 2, optim: { lr: 1e-3 } });

    const prompts = [
      [1, 2, 3],
      [4, 5],
    ];
    const gen = await engine.generate(toRagged(prompts), { n: 3, maxNewTokens: 6, temperature: 1, seed: 5 });
    assert.equal(gen.offsets.length, 7);
    assert.equal(gen.ids.length, gen.offsets[6]);
    assert.equal(gen.logprobs.length, gen.ids.length);
    assert.equal(gen.numTokens, gen.ids.length);
    assert.ok(gen.finish.every((f) => f === 'length'));
    const again = await engine.generate(toRagged(prompts), {
      n: 3,
      maxNewTokens: 6,
      temperature: 1,
      seed: 5,
    });
    assert.deepEqual(again.ids, gen.ids, 'same seed, same samples');

    const responses = fromRagged(gen);
    const batch = joinSequences(prompts, responses, 3);
    const fwd = await engine.forward(batch, { role: 'policy', outputs: ['logprobs', 'entropy'] });
    assert.equal(fwd.logprobs!.length, gen.ids.length);
    for (let k = 0; k < gen.ids.length; k++) assert.ok(Math.abs(fwd.logprobs![k] - gen.logprobs[k]) < 1e-4);
    assert.ok(fwd.entropy!.every((h) => h > 0 && h <= Math.log(16) + 1e-5));
    const ref = await engine.forward(batch, { role: 'ref', outputs: ['logprobs'] });
    assert.deepEqual(ref.logprobs, fwd.logprobs, 'same seed, same weights');
    const values = await engine.forward(batch, { role: 'critic', outputs: ['values'] });
    assert.equal(values.values!.length, gen.ids.length);

    const T = gen.ids.length;
    const train: TrainBatch = {
      ...batch,
      advantages: Float32Array.from({ length: T }, (_, k) => (k % 3) - 1),
      oldLogprobs: gen.logprobs,
      refLogprobs: ref.logprobs,
      mask: Uint8Array.from({ length: T }, (_, k) => (k === 0 ? 0 : 1)),
    };
    const s = await engine.train(train, {
      role: 'policy',
      loss: 'ppo',
      lossArgs: { klCoef: 0.01, klEstimator: 'k3' },
    });
    assert.equal(s.numTokens, T - 1);
    assert.equal(s.lr, 5e-4, 'first warm-up step');
    assert.ok(Number.isFinite(s.loss) && s.gradNorm > 0 && s.kl! >= 0 && s.clipFrac === 0);
    assert.ok(Math.abs(s.ratioMean! - 1) < 1e-4, 'behaviour log-probs equal the policy: ratio 1');
    const v = await engine.train(
      { ...batch, returns: new Float32Array(T).fill(1), oldValues: values.values },
      { role: 'critic', loss: 'value', microBatchTokens: 9 },
    );
    assert.ok(v.vfLoss! > 0 && v.gradNorm > 0);

    const saved = await engine.save({ role: 'policy', path: join(dir, 'policy'), optimizer: true });
    assert.ok(saved.bytes > 4 * policy.numParams);
    for (const f of ['config.json', 'model.safetensors', 'optimizer.pt'])
      assert.ok(existsSync(join(dir, 'policy', f)));

    // resume from the saved folder: weights, optimiser state and schedule position come back
    await engine.load({
      role: 'policy',
      path: join(dir, 'policy'),
      optim: { lr: 1e-3, warmupSteps: 2 },
      resumeOptimizer: join(dir, 'policy', 'optimizer.pt'),
      gradCheckpointing: true,
    });
    const s2 = await engine.train(train, {
      role: 'policy',
      loss: 'ppo',
      lossArgs: { klCoef: 0.01, klEstimator: 'k3' },
    });
    assert.equal(s2.lr, 1e-3, 'second warm-up step');
    assert.ok(s2.ratioMean! > 1 + 1e-4 || s2.ratioMean! < 1 - 1e-4, 'the first step changed the policy');
    await engine.load({ role: 'critic', path: join(dir, 'policy'), valueHeadFrom: 'random', seed: 3 });
    const fresh = await engine.forward(batch, { role: 'critic', outputs: ['values'] });
    assert.ok(
      fresh.values!.some((x) => x !== 0),
      'random head',
    );

    const stats = (await engine.stats()) as {
      ops: Record<string, { count: number }>;
      roles: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(stats.roles).sort(), ['critic', 'policy', 'ref']);
    for (const op of ['hello', 'load', 'generate', 'forward', 'train', 'save'])
      assert.ok(stats.ops[op].count >= 1, op);
  });

  test('typed errors leave the engine serving', async () => {
    await assert.rejects(engine.call('frobnicate'), (e: EngineError) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.type, 'UnknownOp');
      assert.match(e.engineMessage, /valid: hello, load/);
      return true;
    });
    await assert.rejects(
      engine.train(
        { ...toRagged([[1, 2, 3]]), promptLens: Int32Array.of(1) },
        { role: 'policy', loss: 'ppo' },
      ),
      (e: EngineError) => e.type === 'BadRequest' && /arrays.advantages: missing/.test(e.engineMessage),
    );
    await assert.rejects(
      engine.train(
        { ...toRagged([[1, 2]]), promptLens: Int32Array.of(1) },
        { role: 'policy', loss: 'dpo' as 'ppo' },
      ),
      (e: EngineError) =>
        e.type === 'BadRequest' && /valid: ppo, grpo, gspo, sft, value/.test(e.engineMessage),
    );
    // bad msgpack in the header: the engine cannot read the id, answers id null, the client pairs it in order
    const garbage = () => {
      const head = Uint8Array.of(0xc1, 0xc1, 0xc1);
      const f = new Uint8Array(16);
      new DataView(f.buffer).setUint32(0, 12, true);
      new DataView(f.buffer).setUint32(4, head.length, true);
      f.set(head, 8);
      return [f];
    };
    await assert.rejects(engine.sendRaw('garbage', garbage), (e: EngineError) => e.type === 'ProtocolError');
    // a descriptor that runs past the blob, with a readable id
    const pastBlob = (id: number) => {
      const [prefix] = encodeFrame({ id, op: 'hello', args: {} }, { x: new Float32Array(2) });
      new DataView(prefix.buffer).setUint32(0, prefix.byteLength - 4, true); // the 8 blob bytes are not sent
      return [prefix];
    };
    await assert.rejects(
      engine.sendRaw('hello', pastBlob),
      (e: EngineError) => e.type === 'ProtocolError' && /run past/.test(e.engineMessage),
    );
    assert.equal((await engine.hello()).protocol, 1);
  });

  test('16 MB array round trip (echo)', async () => {
    const big = Float32Array.from({ length: 4 << 20 }, (_, i) => i * 0.5);
    const first = await engine.call('echo', {}, { x: big });
    assert.deepEqual(first.arrays.x, big);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await engine.call('echo', {}, { x: big });
      times.push(performance.now() - t0);
    }
    const t1 = performance.now();
    for (let i = 0; i < 50; i++) await engine.call('echo');
    const small = (performance.now() - t1) / 50;
    times.sort((a, b) => a - b);
    console.log(
      `# engine echo: 16 MB round trip median ${times[2].toFixed(1)} ms, empty call ${small.toFixed(2)} ms`,
    );
    assert.ok(times[2] < 2000);
  });
});

describe('EngineClient failure reporting', () => {
  test('kill -9 rejects pending and later calls with EngineDiedError and the stderr tail', async () => {
    const engine = await start();
    const pid = engine.child.pid!;
    process.kill(pid, 'SIGSTOP'); // the request below is surely pending when the kill lands
    const pending = engine.hello();
    process.kill(pid, 'SIGKILL');
    await assert.rejects(pending, (e: EngineDiedError) => {
      assert.ok(e instanceof EngineDiedError);
      assert.equal(e.signal, 'SIGKILL');
      assert.ok(e.message.startsWith(ENGINE_DIED));
      assert.ok(e.message.includes(KILLED_FROM_OUTSIDE), e.message); // a hint at the OOM killer
      assert.match(e.stderrTail, new RegExp(`simplerl_engine: pid ${pid}`));
      return true;
    });
    await assert.rejects(engine.stats(), EngineDiedError);
    assert.equal(engine.isAlive, false);
  });

  test('an engine that stops sending frames is declared hung and killed', async () => {
    const engine = await EngineClient.start({
      device: 'cpu',
      threads: 1,
      heartbeatIntervalS: 0.2,
      heartbeatTimeoutMs: 1500,
    });
    await engine.hello();
    process.kill(engine.child.pid!, 'SIGSTOP');
    await assert.rejects(engine.hello(), (e: EngineDiedError) => e.message.startsWith(ENGINE_HUNG));
  });

  test('a Python that cannot start is reported', async () => {
    await assert.rejects(EngineClient.start({ python: '/nonexistent/python3' }), (e: EngineDiedError) =>
      e.message.startsWith(ENGINE_START_FAILED),
    );
  });

  test('a SIMPLERL_PYTHON that does not exist is named as such', async () => {
    const saved = process.env.SIMPLERL_PYTHON;
    process.env.SIMPLERL_PYTHON = '/nonexistent/bin/python3';
    try {
      await assert.rejects(EngineClient.start(), (e: EngineDiedError) =>
        e.message.startsWith(
          `${ENGINE_START_FAILED}: SIMPLERL_PYTHON=/nonexistent/bin/python3: no such file`,
        ),
      );
    } finally {
      if (saved === undefined) delete process.env.SIMPLERL_PYTHON;
      else process.env.SIMPLERL_PYTHON = saved;
    }
  });

  test('shutdown exits cleanly and later calls reject', async () => {
    const engine = await start();
    await engine.shutdown();
    assert.equal(engine.child.exitCode, 0);
    await assert.rejects(engine.hello(), EngineDiedError);
  });
});
