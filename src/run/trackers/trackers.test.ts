// A real tiny GRPO run with run.trackers [tensorboard, wandb]: TensorBoard's own reader (PyPI
// `tensorboard`, EventAccumulator) and W&B's own offline reader (`wandb leet inspect --json`) give
// back every scalar of metrics.jsonl at every step. W&B runs offline: no network.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { venvPython } from '../../../tests/fixtures/tiny-model.ts';
import { makeTinySetup, runPython, tinyConfig, tinyConfigYaml } from '../../../tests/fixtures/train-setup.ts';
import { runTraining } from '../../rl/trainer.ts';
import { type MetricsRow, readMetrics } from '../metrics.ts';
import { TensorBoardTracker, WANDB_FAILED, WandbTracker } from './index.ts';

const READ_TENSORBOARD = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))
`;

/** { tag: [[step, value], ...] } from metrics rows, as the readers should give them back. */
function expectedScalars(rows: MetricsRow[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const row of rows)
    for (const [k, v] of Object.entries(row))
      if (k !== 'step' && typeof v === 'number') out.set(k, [...(out.get(k) ?? []), [row.step, v]]);
  return out;
}

describe('trackers: TensorBoard and W&B (offline) hold every metric of a real run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-trackers-'));
  let runDir: string;
  let rows: MetricsRow[];

  before(async () => {
    const setup = await makeTinySetup(dir, 8);
    const yaml = tinyConfigYaml({
      model: setup.model.dir,
      train: setup.train,
      runDir: join(dir, 'runs'),
      algo: 'grpo',
    });
    const cfg = tinyConfig(yaml.replace('run:\n', 'run:\n  trackers: [tensorboard, wandb]\n'), [
      'run.max_steps=2',
    ]);
    runDir = join(dir, 'runs', 'tracked');
    await runTraining(cfg, { runDir, log: () => {} });
    rows = readMetrics(join(runDir, 'metrics.jsonl')).rows;
    assert.equal(rows.length, 2);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("TensorBoard's EventAccumulator reads every scalar at every step", () => {
    const events = readdirSync(runDir).filter((f) => f.startsWith('events.out.tfevents.'));
    assert.equal(events.length, 1);
    const read = JSON.parse(runPython(READ_TENSORBOARD, [runDir])) as Record<string, [number, number][]>;
    const expected = expectedScalars(rows);
    assert.ok(expected.size >= 10, `${expected.size} metrics`);
    assert.deepEqual(Object.keys(read).sort(), [...expected.keys()].sort());
    for (const [tag, points] of expected) {
      assert.deepEqual(
        read[tag].map(([s]) => s),
        points.map(([s]) => s),
        tag,
      );
      // scalars are float32 in the event file
      for (const [i, [, v]] of points.entries()) assert.equal(read[tag][i][1], Math.fround(v), tag);
    }
  });

  test("W&B's offline run holds the same scalars (read by `wandb leet inspect`)", () => {
    const offline = join(runDir, 'wandb');
    const runFolder = readdirSync(offline).find((f) => f.startsWith('offline-run-'));
    assert.ok(runFolder, readdirSync(offline).join(', '));
    const file = readdirSync(join(offline, runFolder)).find((f) => f.endsWith('.wandb')) as string;
    const wandbCli = join(dirname(venvPython()), 'wandb');
    const r = spawnSync(wandbCli, ['leet', 'inspect', '--json', join(offline, runFolder, file)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const history = r.stdout
      .split('\n')
      .filter((l) => l.includes('"history"'))
      .map((l) => (JSON.parse(l) as { history: { item: Record<string, number> } }).history.item);
    assert.equal(history.length, rows.length);
    for (const [i, row] of rows.entries()) {
      assert.equal(history[i]._step, row.step);
      for (const [k, v] of Object.entries(row))
        if (k !== 'step' && k !== 'time') assert.equal(history[i][k], v, k);
    }
  });

  test('a resumed run: TensorBoard drops the old events of the steps run again', async () => {
    const tbDir = join(dir, 'resumed');
    mkdirSync(tbDir);
    const row = (step: number, v: number) => ({ step, time: '', 'reward/mean': v });
    const first = new TensorBoardTracker(tbDir);
    for (const s of [1, 2, 3]) first.log(row(s, s));
    await first.close();
    // killed after step 3, resumed from the checkpoint of step 1: steps 2 and 3 run again
    const again = new TensorBoardTracker(tbDir, 1);
    for (const s of [2, 3, 4]) again.log(row(s, 10 * s));
    await again.close();
    const read = JSON.parse(runPython(READ_TENSORBOARD, [tbDir])) as Record<string, [number, number][]>;
    assert.deepEqual(read['reward/mean'], [
      [1, 1],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
  });

  test('a W&B sidecar that cannot start says why', async () => {
    await assert.rejects(
      WandbTracker.start({ project: 'p', name: 'n', dir, mode: 'offline', python: '/nonexistent/python3' }),
      (e: Error) => e.message.startsWith(WANDB_FAILED),
    );
  });
});
