import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CONFIG_ERROR, configToYaml, loadConfig, resolveConfig } from '../config/index.ts';
import { ENGINE_DIED, EngineDiedError } from '../engine/errors.ts';
import { type ControllerState, writeCheckpoint } from '../run/index.ts';
import { FIXED_ON_RESUME_ERROR, prepareTrainRun, RESUME_HINT, withResumeHint } from './train-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'simplerl-traincmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// A model folder as far as the checks look (no weights needed: nothing is loaded here).
const model = join(dir, 'model');
mkdirSync(model);
writeFileSync(join(model, 'config.json'), JSON.stringify({ max_position_embeddings: 2048 }));
writeFileSync(join(model, 'tokenizer.json'), '{}');
const data = join(dir, 'train.jsonl');
writeFileSync(data, '{"problem": "1+1", "answer": "2"}\n');
const cfgFile = join(dir, 'zero.yaml');
writeFileSync(
  cfgFile,
  `run:\n  dir: ${dir}/runs\nmodel:\n  path: ${model}\ndata:\n  train: ${data}\nrollout:\n  max_new_tokens: 512\n`,
);

describe('simplerl train: run preparation', () => {
  test('a fresh run: --name picks the folder under run.dir; the default is config name + time', () => {
    const named = prepareTrainRun({ configFile: cfgFile, name: 'exp1' });
    assert.equal(named.runDir, join(dir, 'runs', 'exp1'));
    assert.equal(named.config.run.name, 'exp1');
    assert.equal(named.resume, false);
    const unnamed = prepareTrainRun({ configFile: cfgFile });
    assert.match(unnamed.runDir, /runs\/zero-\d{8}-\d{6}$/);
  });

  test('a bad name, a missing config and missing inputs are explained', () => {
    assert.throws(
      () => prepareTrainRun({ configFile: cfgFile, name: 'a/b' }),
      /--set run\.name=a\/b: run\.name/,
    );
    assert.throws(() => prepareTrainRun({}), /give a CONFIG file .* or --resume RUN_DIR/);
    assert.throws(
      () =>
        prepareTrainRun({
          configFile: cfgFile,
          sets: [`model.path=${dir}/nope`, `data.val=${dir}/val.jsonl`],
        }),
      (err: Error) =>
        err.message.startsWith(CONFIG_ERROR) &&
        err.message.includes(`model.path=${dir}/nope: no config.json there`) &&
        err.message.includes(`data.val=${dir}/val.jsonl: file not found`),
    );
    assert.throws(
      () => prepareTrainRun({ configFile: cfgFile, sets: ['model.prompt_template=qwen-unknown'] }),
      /model\.prompt_template="qwen-unknown": not a template name/,
    );
    assert.throws(
      () => prepareTrainRun({ configFile: cfgFile, sets: ['rollout.max_new_tokens=2000'] }),
      /= 3024 exceeds max_position_embeddings=2048/,
    );
  });

  test('--resume uses the run config; a CONFIG that differs is refused with the keys; --set is recorded', () => {
    const runDir = join(dir, 'runs', 'r1');
    mkdirSync(runDir, { recursive: true });
    const resolved = resolveConfig(loadConfig(cfgFile, { sets: ['run.name=r1'] }), cfgFile);
    writeFileSync(join(runDir, 'config.yaml'), configToYaml(resolved));
    const r = prepareTrainRun({ resume: runDir });
    assert.equal(r.resume, true);
    assert.deepEqual(r.config, resolved);
    // The same CONFIG again (plus a longer run) is fine; a different learning rate is not.
    assert.equal(
      prepareTrainRun({ resume: runDir, configFile: cfgFile, sets: ['run.max_steps=9'] }).config.run
        .max_steps,
      9,
    );
    assert.match(readFileSync(join(runDir, 'config.yaml'), 'utf8'), /max_steps: 9/);
    const other = join(dir, 'other.yaml');
    writeFileSync(other, `${readFileSync(cfgFile, 'utf8')}optim:\n  actor_lr: 1.0e-6\nalgo:\n  clip: 0.3\n`);
    assert.throws(
      () => prepareTrainRun({ resume: runDir, configFile: other }),
      /other\.yaml differs from .*config\.yaml in algo\.clip, optim\.actor_lr: a resumed run keeps its own config/,
    );
    assert.throws(() => prepareTrainRun({ resume: join(dir, 'nothing') }), /no config\.yaml there/);
  });

  test('--resume --set: a key the prompts or checkpoints depend on, or a bad input, is refused and config.yaml is kept', () => {
    const runDir = join(dir, 'runs', 'r2');
    mkdirSync(runDir, { recursive: true });
    const resolved = resolveConfig(loadConfig(cfgFile, { sets: ['run.name=r2'] }), cfgFile);
    const own = configToYaml(resolved);
    writeFileSync(join(runDir, 'config.yaml'), own);
    const other = join(dir, 'other-train.jsonl');
    writeFileSync(other, '{"problem": "2+2", "answer": "4"}\n');
    for (const set of [
      `data.train=${other}`,
      'run.seed=7',
      'rollout.max_prompt_tokens=64',
      `model.path=${dir}/nope`,
    ]) {
      assert.throws(
        () => prepareTrainRun({ resume: runDir, sets: [set] }),
        (err: Error) =>
          err.message.startsWith(CONFIG_ERROR) &&
          err.message.includes(`--set ${set.split('=')[0]}`) &&
          err.message.includes(`${FIXED_ON_RESUME_ERROR} ${runDir}`),
        set,
      );
      assert.equal(readFileSync(join(runDir, 'config.yaml'), 'utf8'), own, `config.yaml after --set ${set}`);
    }
    // A key that may change, but with an input that does not exist: refused, config.yaml unchanged.
    assert.throws(
      () => prepareTrainRun({ resume: runDir, sets: [`data.val=${dir}/no-val.jsonl`] }),
      /data\.val=.*no-val\.jsonl: file not found/,
    );
    assert.equal(readFileSync(join(runDir, 'config.yaml'), 'utf8'), own);
    assert.equal(
      prepareTrainRun({ resume: runDir, sets: ['optim.actor_lr=1e-6'] }).config.optim.actor_lr,
      1e-6,
    );
  });

  test('--resume --set run.max_steps warns that the learning-rate schedule changes', () => {
    const runDir = join(dir, 'runs', 'r3');
    mkdirSync(runDir, { recursive: true });
    const resolved = resolveConfig(
      loadConfig(cfgFile, { sets: ['run.name=r3', 'run.max_steps=10'] }),
      cfgFile,
    );
    writeFileSync(join(runDir, 'config.yaml'), configToYaml(resolved));
    assert.deepEqual(prepareTrainRun({ resume: runDir }).warnings, []);
    const longer = prepareTrainRun({ resume: runDir, sets: ['run.max_steps=20'] });
    assert.equal(longer.warnings.length, 1);
    assert.match(longer.warnings[0], /run\.max_steps 10 → 20: the learning-rate schedule changes/);
    // A constant schedule without warm-up does not depend on the length.
    assert.deepEqual(
      prepareTrainRun({
        resume: runDir,
        sets: ['run.max_steps=30', 'optim.schedule=constant', 'optim.warmup_ratio=0'],
      }).warnings,
      [],
    );
  });
});

describe('simplerl train: an engine that dies mid-run', () => {
  test('the error says how to resume when the run has a checkpoint', async () => {
    const runDir = join(dir, 'runs', 'died');
    const died = new EngineDiedError(ENGINE_DIED, null, 'SIGKILL', 'Killed');
    // no checkpoint yet: nothing to resume from, the error is unchanged
    assert.equal(withResumeHint(died, runDir), died);
    const state = { version: 1, step: 2 } as ControllerState;
    await writeCheckpoint(join(runDir, 'checkpoints'), state, async () => {});
    const err = withResumeHint(died, runDir) as Error;
    assert.ok(err.message.startsWith(died.message), err.message);
    assert.ok(
      err.message.endsWith(`(step 2); ${RESUME_HINT}: simplerl train --resume ${runDir}`),
      err.message,
    );
    assert.ok(err.message.includes(join(runDir, 'checkpoints', 'step-000002')), err.message);
    assert.equal(err.cause, died);
    // any other error (a config error, a diverged step with its own advice) is left as it is
    const other = new Error('train: step 3 diverged');
    assert.equal(withResumeHint(other, runDir), other);
  });
});
