// `simplerl train` as a user runs it (a child process): config mistakes fail fast with the file, line and
// key, before any engine starts; --help-config lists the schema.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from './fixtures/train-setup.ts';

describe('simplerl train (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an unknown key in the file names file, line, column and key; exit code 1', async () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'model:\n  path: /m\nalgo:\n  name: ppo\n  kl_coef: 0.1\n');
    const r = await runCli(['train', cfg]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${cfg.replace(/[.]/g, '\\.')}:5:3 algo\\.kl_coef: unknown key`));
  });

  test('an unknown --set key names the key and the config file', async () => {
    const r = await runCli(['train', 'configs/zero.yaml', '--set', 'rl.kl_coef=0.001']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--set rl\.kl_coef=0\.001: unknown key "rl" \(config configs\/zero\.yaml\)/);
  });

  test('--help-config lists every key of a section with default and help', async () => {
    const r = await runCli(['train', '--help-config', 'optim']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /optim\.actor_lr \(number\) = 5e-7\n {4}Policy learning rate/);
    assert.doesNotMatch(r.stdout, /^algo\./m);
  });

  test('--help-config with an unknown section fails (exit code 1) and lists the sections; one key works', async () => {
    const bad = await runCli(['train', '--help-config', 'optimizer']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no config section or key "optimizer" \(sections: run, model, data, algo, /);
    const one = await runCli(['train', '--help-config', 'algo.kl.coef']);
    assert.equal(one.code, 0);
    assert.match(one.stdout, /^algo\.kl\.coef \(number\|null\) = /);
    assert.equal(one.stdout.trim().split('\n').length, 2);
  });
});
