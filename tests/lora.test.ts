// LoRA RL end to end (issue 20), PPO with a KL term so that every LoRA role is used (policy adapters,
// the reference as the policy's base, the critic's own adapters + value head): checkpoints hold PEFT
// adapters and no full weights; a run killed with SIGKILL and resumed draws exactly the samples of an
// uninterrupted run (as tests/resume.test.ts checks for full training); `simplerl export --merge` writes a
// plain model whose log-probs equal those of base + adapter in the engine.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineClient, toRagged } from '../src/engine/index.ts';
import { findLatestCheckpoint, readMetrics } from '../src/run/index.ts';
import { makeTinySetup, runCli, type TinySetup, writeTinyConfigFile } from './fixtures/train-setup.ts';

const STEPS = 5;
const LORA_SETS = ['model.lora.rank=4', 'model.lora.dropout=0.1', 'algo.kl.coef=0.01', 'optim.actor_lr=1e-2'];

function responsesByStep(runDir: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const f of readdirSync(join(runDir, 'rollouts')).sort()) {
    const rows = readFileSync(join(runDir, 'rollouts', f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; response: string });
    out.set(
      rows[0]!.step,
      rows.map((r) => r.response),
    );
  }
  return out;
}

describe('LoRA RL: PEFT checkpoints, exact resume, merged export', () => {
  let dir: string;
  let setup: TinySetup;
  let configFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-lora-'));
    setup = await makeTinySetup(dir, 10);
    configFile = writeTinyConfigFile(dir, setup, 'ppo', (yaml) =>
      yaml.replace('max_steps: 3', `max_steps: ${STEPS}`),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('adapter checkpoints; SIGKILL + --resume gives the samples of an uninterrupted run', async () => {
    const sets = LORA_SETS.flatMap((s) => ['--set', s]);
    const full = await runCli(['train', configFile, '--name', 'full', ...sets]);
    assert.equal(full.code, 0, full.stderr);
    const last = findLatestCheckpoint(join(dir, 'runs', 'full'));
    assert.ok(last !== null);
    for (const role of ['policy', 'critic']) {
      const files = readdirSync(join(last.dir, role));
      assert.ok(files.includes('adapter_config.json') && files.includes('adapter_model.safetensors'), role);
      assert.ok(!files.includes('model.safetensors'), `${role}: no full weights in a LoRA checkpoint`);
    }
    const killedDir = join(dir, 'runs', 'killed');
    let pid = 0;
    let killedAt = 0;
    const watcher = setInterval(() => {
      const { rows } = readMetrics(join(killedDir, 'metrics.jsonl'));
      if (rows.length >= 3 && pid !== 0 && killedAt === 0) {
        killedAt = rows.length;
        process.kill(pid, 'SIGKILL');
      }
    }, 20);
    const killed = await runCli(['train', configFile, '--name', 'killed', ...sets], {
      onSpawn: (p) => {
        pid = p;
      },
    });
    clearInterval(watcher);
    assert.equal(killed.signal, 'SIGKILL', `the controller was not killed: ${killed.stderr}`);
    const checkpoint = findLatestCheckpoint(killedDir);
    assert.ok(checkpoint !== null && checkpoint.step < STEPS, 'a checkpoint before the end');
    const resumed = await runCli(['train', '--resume', killedDir]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const a = responsesByStep(join(dir, 'runs', 'full'));
    const b = responsesByStep(killedDir);
    for (let step = checkpoint.step + 1; step <= STEPS; step++)
      assert.deepEqual(
        b.get(step),
        a.get(step),
        `responses of step ${step} after resuming at ${checkpoint.step}`,
      );
    const metricsA = readMetrics(join(dir, 'runs', 'full', 'metrics.jsonl')).rows;
    const metricsB = readMetrics(join(killedDir, 'metrics.jsonl')).rows;
    for (const key of ['actor/loss', 'critic/values_mean', 'kl/mean'])
      assert.equal(metricsB.at(-1)![key], metricsA.at(-1)![key], `${key} of the last step, bit for bit`);
    assert.ok(
      Number(metricsA.at(-1)!['kl/mean']) !== 0,
      'the reference (base) differs from the trained policy',
    );
  });

  test('export --merge: a plain model with the log-probs of base + adapter', async () => {
    const runDir = join(dir, 'runs', 'full');
    const out = join(dir, 'merged');
    const r = await runCli(['export', '--merge', runDir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json'])
      assert.ok(existsSync(join(out, f)), f);
    const adapter = join(findLatestCheckpoint(runDir)!.dir, 'policy');
    const engine = await EngineClient.start({ device: 'cpu', threads: 1 });
    try {
      await engine.load({
        role: 'policy',
        path: setup.model.dir,
        lora: { rank: 4, alpha: 8, adapterPath: adapter },
      });
      await engine.load({ role: 'ref', path: out });
      const seqs = {
        ...toRagged([
          [1, 5, 7, 9, 11, 4],
          [2, 3, 8, 6],
        ]),
        promptLens: new Int32Array([2, 1]),
      };
      const lora = await engine.forward(seqs, { role: 'policy', outputs: ['logprobs'] });
      const merged = await engine.forward(seqs, { role: 'ref', outputs: ['logprobs'] });
      const diffs = lora.logprobs!.map((v, i) => Math.abs(v - merged.logprobs![i]!));
      assert.ok(Math.max(...diffs) < 1e-5, `max |Δ log-prob| ${Math.max(...diffs)}`);
    } finally {
      await engine.shutdown();
    }
    const bad = await runCli(['export', '--merge', setup.model.dir, '--out', join(dir, 'x')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /is a full model already/);
  });
});
