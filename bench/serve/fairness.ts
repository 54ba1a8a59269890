// Issue 16 probe, measured: how long a small request waits behind a large one in `simplerl serve`.
// One large request (NUM_LARGE prompts) starts, a small one (1 prompt) follows 50 ms later; the small
// one's latency and the large one's total time, with every prompt of the large request in one engine
// call (--max-batch-rows ≥ NUM_LARGE: how the server batched before round-robin) and with bounded
// round-robin batches. Real engine on CPU, 1 torch thread, a small random model (HIDDEN, LAYERS).
// Usage: node --import tsx bench/serve/fairness.ts [NUM_LARGE=512] [MAX_TOKENS=32] [HIDDEN=64] [LAYERS=2]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineClient } from '../../src/engine/index.ts';
import { createCompletionsApp, listen } from '../../src/sft/serve.ts';
import { TextTokenizer } from '../../src/tokenizer/tokenizer.ts';
import { makeTinyModel } from '../../tests/fixtures/tiny-model.ts';

const NUM_LARGE = Number(process.argv[2] ?? 512);
const MAX_TOKENS = Number(process.argv[3] ?? 32);
const HIDDEN = Number(process.argv[4] ?? 64);
const LAYERS = Number(process.argv[5] ?? 2);

async function trial(engine: EngineClient, tokenizer: TextTokenizer, maxBatchRows: number) {
  const app = await createCompletionsApp({ engine, tokenizer, modelName: 'tiny', limits: { maxBatchRows } });
  const server = await listen(app, 0, '127.0.0.1');
  const post = async (prompt: string[]) => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, max_tokens: MAX_TOKENS, temperature: 1, seed: 1 }),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await res.json();
    return (performance.now() - t0) / 1000;
  };
  const large = post(Array(NUM_LARGE).fill('Compute 2 + 3.'));
  await sleep(50);
  const small = await post(['Compute 1 + 1.']);
  const total = await large;
  await server.close();
  return { small, total };
}

const dir = await mkdtemp(join(tmpdir(), 'simplerl-bench-serve-'));
const engine = await EngineClient.start({ device: 'cpu', threads: 1 });
try {
  await makeTinyModel(join(dir, 'model'), {
    engine,
    seed: 1,
    hidden: HIDDEN,
    layers: LAYERS,
    intermediate: 4 * HIDDEN,
  });
  await engine.load({ role: 'policy', path: join(dir, 'model'), dtype: 'float32' });
  const tokenizer = await TextTokenizer.fromDir(join(dir, 'model'));
  await trial(engine, tokenizer, 64); // warm-up
  for (const rows of [NUM_LARGE, 256, 64]) {
    const r = await trial(engine, tokenizer, rows);
    console.log(
      `max_batch_rows ${String(rows).padStart(4)}: small request ${r.small.toFixed(2)} s, large request (${NUM_LARGE} prompts) ${r.total.toFixed(2)} s`,
    );
  }
} finally {
  await engine.shutdown();
  await rm(dir, { recursive: true, force: true });
}
