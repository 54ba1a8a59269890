// PPO with the engine as 2 gloo ranks under torchrun (`--nproc 2`), CPU, tiny model: 3 steps write
// metrics and checkpoints that transformers loads; a run whose controller is SIGKILLed and resumed with
// the same N reaches the same final weights as the uninterrupted run.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findLatestCheckpoint, readMetrics } from '../src/run/index.ts';
import { makeTinySetup, runCli, runPython, type TinySetup, tinyConfigYaml } from './fixtures/train-setup.ts';

const STEPS = 3;
const SAME_WEIGHTS = `
import sys, torch
from safetensors.torch import load_file
a, b = load_file(sys.argv[1] + "/model.safetensors"), load_file(sys.argv[2] + "/model.safetensors")
assert a.keys() == b.keys(), (a.keys(), b.keys())
print(max(float((a[k] - b[k]).abs().max()) for k in a))
`;
const LOADS = `
import sys, torch
from transformers import AutoModelForCausalLM
m = AutoModelForCausalLM.from_pretrained(sys.argv[1], dtype=torch.float32)
out = m(torch.tensor([[1, 2, 3]])).logits
assert torch.isfinite(out).all()
print(sum(p.numel() for p in m.parameters()))
`;

describe('training with 2 engine ranks (torchrun, gloo)', () => {
  let dir: string;
  let setup: TinySetup;
  let configFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-dist-train-'));
    setup = await makeTinySetup(dir, 10);
    configFile = join(dir, 'cfg.yaml');
    writeFileSync(
      configFile,
      tinyConfigYaml({ model: setup.model.dir, train: setup.train, runDir: join(dir, 'runs'), algo: 'ppo' })
        .replace('max_steps: 3', `max_steps: ${STEPS}`)
        .replace('save_every: 2', 'save_every: 1'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('3 PPO steps, then a SIGKILLed and resumed run reaches the same weights', async () => {
    const full = await runCli(['train', configFile, '--nproc', '2', '--name', 'full'], {
      timeoutMs: 240_000,
    });
    assert.equal(full.code, 0, full.stderr);
    const fullDir = join(dir, 'runs', 'full');
    const { rows } = readMetrics(join(fullDir, 'metrics.jsonl'));
    assert.deepEqual(
      rows.map((r) => r.step),
      [1, 2, 3],
    );
    assert.ok(
      rows.every((r) => Number.isFinite(r['actor/grad_norm']) && Number.isFinite(r['critic/vf_loss'])),
    );
    const last = findLatestCheckpoint(fullDir);
    assert.equal(last?.step, STEPS);
    assert.ok(Number(runPython(LOADS, [join(last!.dir, 'policy')])) > 0, 'transformers loads the policy');
    assert.ok(existsSync(join(last!.dir, 'policy', 'optimizer.dcp')), 'sharded optimiser state: 2 ranks ran');

    const killedDir = join(dir, 'runs', 'killed');
    let pid = 0;
    let killedAt = 0;
    const watcher = setInterval(() => {
      const { rows: done } = readMetrics(join(killedDir, 'metrics.jsonl'));
      if (done.length >= 2 && pid !== 0 && killedAt === 0) {
        killedAt = done.length;
        process.kill(pid, 'SIGKILL');
      }
    }, 20);
    const killed = await runCli(['train', configFile, '--nproc', '2', '--name', 'killed'], {
      onSpawn: (p) => {
        pid = p;
      },
      timeoutMs: 240_000,
    });
    clearInterval(watcher);
    assert.equal(killed.signal, 'SIGKILL', `the controller was not killed: ${killed.stderr}`);
    const before = findLatestCheckpoint(killedDir);
    assert.ok(before !== null && before.step < STEPS, `a checkpoint before the end, got ${before?.step}`);
    const resumed = await runCli(['train', '--resume', killedDir], { timeoutMs: 240_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    const end = findLatestCheckpoint(killedDir);
    assert.equal(end?.step, STEPS);
    for (const role of ['policy', 'critic']) {
      const diff: number = Number(runPython(SAME_WEIGHTS, [join(last!.dir, role), join(end!.dir, role)]));
      assert.equal(diff, 0, `${role}: the resumed run's final weights differ by ${diff}`);
    }
  });
});
