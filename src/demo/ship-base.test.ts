// Shipped base models: `simplerl demo-base` makes one through the real engine, a second pre-training
// with the same threads reproduces it byte for byte, and the demo then starts from it without
// pre-training; the bases in assets/demo-bases match what this code's spec and corpus would make.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../engine/index.ts';
import { sha256File } from '../run/manifest.ts';
import {
  baseModelDir,
  corpusOf,
  DEFAULT_BASE_SPEC,
  findShippedBase,
  SHIPPED_BASES_DIR,
  WEIGHTS_FILE,
} from './base-model.ts';
import { runDemo } from './run-demo.ts';
import { describeShip, makeShippedBase } from './ship-base.ts';

const TINY_BASE = {
  hiddenSize: 32,
  numLayers: 1,
  numHeads: 2,
  intermediateSize: 64,
  numDocs: 300,
  steps: 8,
  batchSize: 8,
};

test('demo-base: make a shipped base, reproduce it byte for byte, and the demo starts from it', {
  timeout: 180_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'demo-ship-'));
  const shippedDir = join(root, 'shipped');
  const spec = { ...DEFAULT_BASE_SPEC, ...TINY_BASE, seed: 3 };
  const engine = await EngineClient.start({ device: 'cpu', threads: 1 });
  try {
    const hello = await engine.hello();
    const first = await makeShippedBase({ spec, engine, hello, shippedDir });
    assert.equal(first.shipped, null);
    assert.equal(first.isReproduced, null);
    assert.ok(first.writtenTo && existsSync(join(baseModelDir(first.made), WEIGHTS_FILE)));
    assert.deepEqual(await readdir(shippedDir), [`base-${first.made.key}`], 'no scratch folder is left');
    assert.equal(first.made.weightsSha256, await sha256File(join(baseModelDir(first.made), WEIGHTS_FILE)));

    const check = await makeShippedBase({ spec, engine, hello, shippedDir, isCheck: true });
    assert.equal(check.isReproduced, true, describeShip(check));
    assert.equal(check.writtenTo, null);
    assert.match(describeShip(check), /reproduces the shipped base byte for byte/);
    assert.deepEqual(await readdir(shippedDir), [`base-${first.made.key}`], 'a check writes nothing');

    // another spec matches no shipped base
    assert.equal(
      await findShippedBase({ ...spec, steps: 9 }, corpusOf({ ...spec, steps: 9 }), shippedDir),
      null,
    );
  } finally {
    await engine.shutdown();
  }
  try {
    const demo = await runDemo({
      out: join(root, 'runs', 'demo'),
      runsDir: join(root, 'runs'),
      shippedDir,
      seed: 3,
      steps: 1,
      threads: 1,
      base: TINY_BASE,
      numTrain: 32,
      numTest: 4,
      numHard: 4,
      progress: false,
      log: () => {},
      sets: [
        'algo.prompts_per_step=4',
        'algo.mini_batch_size=4',
        'algo.n_samples=2',
        'rollout.max_new_tokens=16',
      ],
    });
    assert.equal(demo.pretrain.source, 'shipped');
    assert.ok(demo.pretrain.path.startsWith(shippedDir));
    assert.equal(existsSync(join(root, 'runs', '.demo-cache')), false, 'nothing was pre-trained or cached');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('assets/demo-bases: a base for seeds 0, 1 and 2 of the current spec and corpus, weights intact', async () => {
  for (const seed of [0, 1, 2]) {
    const spec = { ...DEFAULT_BASE_SPEC, seed };
    const shipped = await findShippedBase(spec, corpusOf(spec), SHIPPED_BASES_DIR);
    assert.ok(
      shipped,
      `no shipped base matches seed ${seed}: the corpus or spec changed; run \`simplerl demo-base --threads 2\``,
    );
    assert.equal(shipped.spec.seed, seed);
    assert.equal(await sha256File(join(baseModelDir(shipped), WEIGHTS_FILE)), shipped.weightsSha256);
  }
});
