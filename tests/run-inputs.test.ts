// Run inputs (issue 16): prompts_per_step larger than the loaded data set fails at start (before the
// engine), naming the counts; a run started with relative paths resumes from another directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TOO_FEW_PROMPTS } from '../src/rl/start-checks.ts';
import { findLatestCheckpoint } from '../src/run/index.ts';
import { makeTinySetup, REPO_ROOT, runCli, tinyConfigYaml } from './fixtures/train-setup.ts';

describe('run inputs', () => {
  let dir: string;
  let configFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-inputs-'));
    await makeTinySetup(dir, 6); // dir/model, dir/train.jsonl
    configFile = join(dir, 'cfg.yaml');
    // paths relative to dir, the directory the run is started from
    writeFileSync(
      configFile,
      tinyConfigYaml({ model: 'model', train: 'train.jsonl', runDir: 'runs', algo: 'grpo' }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prompts_per_step larger than the data set: exit 1 before the engine starts, with both counts', async () => {
    const r = await runCli(['train', 'cfg.yaml', '--name', 'big', '--set', 'algo.prompts_per_step=8'], {
      cwd: dir,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`cfg\\.yaml: ${TOO_FEW_PROMPTS}: algo\\.prompts_per_step=8, but 6 training prompts`),
    );
    assert.doesNotMatch(r.stderr, /engine torch/);
  });

  test('a run started with relative paths resumes from another working directory', async () => {
    const first = await runCli(['train', 'cfg.yaml', '--name', 'rel', '--set', 'run.max_steps=1'], {
      cwd: dir,
    });
    assert.equal(first.code, 0, first.stderr);
    const runDir = join(dir, 'runs', 'rel');
    const stored = readFileSync(join(runDir, 'config.yaml'), 'utf8');
    assert.ok(stored.includes(`path: ${join(dir, 'model')}`), stored);
    assert.ok(stored.includes(`train: ${join(dir, 'train.jsonl')}`), stored);
    const resumed = await runCli(['train', '--resume', runDir, '--set', 'run.max_steps=2'], {
      cwd: REPO_ROOT,
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(findLatestCheckpoint(runDir)?.step, 2);
  });
});
