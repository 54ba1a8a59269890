import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CONFIG_ERROR,
  ConfigError,
  configFromObject,
  configKeys,
  configToYaml,
  formatConfigHelp,
  loadConfig,
  parseConfig,
  resolveConfig,
} from './index.ts';
import { LIST_SYNTAX, REPEATED_SET } from './load.ts';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    assert.ok(err.message.startsWith(CONFIG_ERROR));
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('config: load', () => {
  test('an empty file gives the defaults of the original v0 recipe', () => {
    const cfg = parseConfig('', 'cfg.yaml');
    assert.equal(cfg.algo.name, 'ppo');
    assert.equal(cfg.algo.n_samples, 8);
    assert.equal(cfg.algo.lambda, 0.95);
    assert.equal(cfg.optim.actor_lr, 5e-7);
    assert.equal(cfg.optim.critic_lr, 9e-6);
    assert.equal(cfg.rollout.temperature, 0.6);
    assert.equal(cfg.run.save_every, 4);
    assert.equal(cfg.algo.kl.coef, null);
  });

  test('a wrong value names file, line, column and key', () => {
    const text = 'run:\n  seed: 1\nalgo:\n  name: ppo\n  kl:\n    coef: -1\n';
    const err = errorOf(() => parseConfig(text, 'cfg.yaml'));
    assert.match(err.message, /cfg\.yaml:6:11 algo\.kl\.coef: Too small: expected number to be >=0/);
  });

  test('a wrong type names the key', () => {
    const err = errorOf(() => parseConfig('algo:\n  n_samples: eight\n', 'x.yaml'));
    assert.match(err.message, /x\.yaml:2:14 algo\.n_samples: .*expected number/i);
  });

  test('an unknown key names its line and the valid keys of the section', () => {
    const err = errorOf(() => parseConfig('algo:\n  name: grpo\n  kl_coef: 0.1\n', 'c.yaml'));
    assert.match(err.message, /c\.yaml:3:3 algo\.kl_coef: unknown key \(valid: name, estimator/);
  });

  test('an unknown section is reported at the top level', () => {
    const err = errorOf(() => parseConfig('rl:\n  x: 1\n', 'c.yaml'));
    assert.match(err.message, /c\.yaml:1:1 rl: unknown key \(valid: run, model, data, algo/);
  });

  test('every problem is reported, not only the first', () => {
    const err = errorOf(() => parseConfig('algo:\n  clip: -0.1\n  gamma: 2\n', 'c.yaml'));
    assert.equal(err.problems.length, 2);
    assert.ok(err.problems.some((p) => /c\.yaml:2:9 algo\.clip: Too small/.test(p)));
    assert.ok(err.problems.some((p) => /c\.yaml:3:10 algo\.gamma: Too big/.test(p)));
  });

  test('YAML syntax errors carry the line', () => {
    const err = errorOf(() => parseConfig('algo:\n  name: [ppo\n', 'c.yaml'));
    assert.match(err.message, /c\.yaml:\d+:\d+: /);
  });

  test('duplicate keys are an error', () => {
    const err = errorOf(() => parseConfig('algo:\n  clip: 0.1\n  clip: 0.2\n', 'c.yaml'));
    assert.match(err.message, /c\.yaml:3:\d+: .*unique/i);
  });

  test('a non-mapping document is rejected', () => {
    errorOf(() => parseConfig('- a\n- b\n', 'c.yaml'));
  });

  test('a missing file names the file', () => {
    const err = errorOf(() => loadConfig('/nonexistent/cfg.yaml'));
    assert.match(err.message, /\/nonexistent\/cfg\.yaml: cannot read/);
  });
});

describe('config: from an object', () => {
  test('defaults fill in; errors name the label and key', () => {
    const cfg = configFromObject({ algo: { name: 'grpo', n_samples: 4 } }, 'demo');
    assert.equal(cfg.algo.n_samples, 4);
    assert.equal(cfg.rollout.top_p, 1);
    const err = errorOf(() => configFromObject({ algo: { n_samples: 0 } }, 'demo'));
    assert.match(err.message, /demo:\d+:\d+ algo\.n_samples: Too small/);
  });
});

describe('config: --set', () => {
  test('typed by the schema: numbers, booleans, null, lists, strings', () => {
    const cfg = parseConfig('algo:\n  name: grpo\n', 'c.yaml', {
      sets: [
        'algo.kl.coef=1e-3',
        'algo.drop_uniform_groups=true',
        'run.max_steps=null',
        'data.levels=[3,4,5]',
        'run.name=007',
        'model.path=/models/qwen',
        'algo.kl.adaptive={target: 6, horizon: 100}',
      ],
    });
    assert.equal(cfg.algo.kl.coef, 0.001);
    assert.equal(cfg.algo.drop_uniform_groups, true);
    assert.equal(cfg.run.max_steps, null);
    assert.deepEqual(cfg.data.levels, [3, 4, 5]);
    assert.equal(cfg.run.name, '007');
    assert.equal(cfg.model.path, '/models/qwen');
    assert.deepEqual(cfg.algo.kl.adaptive, { target: 6, horizon: 100 });
  });

  test('overrides win over the file and create missing sections', () => {
    const cfg = parseConfig('algo:\n  clip: 0.1\n', 'c.yaml', {
      sets: ['algo.clip=0.3', 'optim.actor_lr=1e-6'],
    });
    assert.equal(cfg.algo.clip, 0.3);
    assert.equal(cfg.optim.actor_lr, 1e-6);
  });

  test('an unknown key names the key, the file and the valid keys', () => {
    const err = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['rl.kl_coef=0.001'] }));
    assert.match(
      err.message,
      /--set rl\.kl_coef=0\.001: unknown key "rl" \(config zero\.yaml\); valid keys: run, model/,
    );
    const err2 = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['algo.kl.cof=1'] }));
    assert.match(
      err2.message,
      /unknown key "algo\.kl\.cof" .*valid keys in algo\.kl: coef, estimator, in, adaptive/,
    );
  });

  test('an ill-typed value names the --set and the file', () => {
    const err = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['algo.kl.coef=-2'] }));
    assert.match(err.message, /--set algo\.kl\.coef=-2: algo\.kl\.coef: Too small.*\(config zero\.yaml\)/);
    const err2 = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['algo.name=dpo'] }));
    assert.match(err2.message, /--set algo\.name=dpo: algo\.name: Invalid option/);
  });

  test('a key given twice by --set: the last one applies and a bad last one is the one named', () => {
    const ok = parseConfig('', 'zero.yaml', { sets: ['algo.clip=-1', 'algo.clip=0.3'] });
    assert.equal(ok.algo.clip, 0.3);
    const err = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['algo.clip=0.3', 'algo.clip=-1'] }));
    assert.match(
      err.message,
      new RegExp(
        `--set algo\\.clip=-1 \\(${REPEATED_SET} 2 --set algo\\.clip, the one that applies\\): algo\\.clip: `,
      ),
    );
    assert.doesNotMatch(err.message, /algo\.clip=0\.3/);
  });

  test('a list key given a scalar shows the list syntax, with the given items', () => {
    const err = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['rollout.stop=</answer>'] }));
    assert.ok(err.message.includes(`${LIST_SYNTAX}: --set 'rollout.stop=["</answer>"]'`), err.message);
    const err2 = errorOf(() => parseConfig('', 'zero.yaml', { sets: ['data.levels=3,4'] }));
    assert.ok(err2.message.includes(`--set 'data.levels=[3, 4]'`), err2.message);
    // the suggested syntax is accepted
    const cfg = parseConfig('', 'zero.yaml', { sets: ['rollout.stop=["</answer>", 151645]'] });
    assert.deepEqual(cfg.rollout.stop, ['</answer>', 151645]);
  });

  test('a malformed --set is explained', () => {
    const err = errorOf(() => parseConfig('', 'c.yaml', { sets: ['algo.clip'] }));
    assert.match(err.message, /--set algo\.clip: expected key=value/);
  });
});

describe('config: derived values and conflicts', () => {
  const base = 'model:\n  path: /m\ndata:\n  train: /d.jsonl\n';

  test('ppo derives gae, kl k1 0.01 in the reward and a critic from the model', () => {
    const r = resolveConfig(parseConfig(base, 'c.yaml'), 'c.yaml');
    assert.equal(r.algo.estimator, 'gae');
    assert.deepEqual([r.algo.kl.coef, r.algo.kl.estimator, r.algo.kl.in], [0.01, 'k1', 'reward']);
    assert.equal(r.model.critic_path, '/m');
    assert.equal(r.model.ref_path, '/m');
    assert.equal(r.model.tokenizer, '/m');
  });

  test('grpo derives the group estimator, kl k3 0.001 in the loss and no critic', () => {
    const r = resolveConfig(parseConfig(`${base}algo:\n  name: grpo\n`, 'c.yaml'), 'c.yaml');
    assert.equal(r.algo.estimator, 'grpo');
    assert.deepEqual([r.algo.kl.coef, r.algo.kl.estimator, r.algo.kl.in], [0.001, 'k3', 'loss']);
    assert.equal(r.model.critic_path, null);
  });

  test('conflicts name values, rule and fix; all are listed', () => {
    const cfg = parseConfig(
      'algo:\n  name: grpo\n  estimator: gae\n  prompts_per_step: 10\n  mini_batch_size: 4\n',
      'c.yaml',
    );
    const err = errorOf(() => resolveConfig(cfg, 'c.yaml'));
    const text = err.message;
    assert.match(text, /model\.path is required.*--set model\.path=DIR/);
    assert.match(text, /data\.train is required/);
    assert.match(text, /algo\.name=grpo with algo\.estimator=gae: GAE needs a critic.*Fix: algo\.name=ppo/);
    assert.match(
      text,
      /algo\.mini_batch_size=4 must divide algo\.prompts_per_step=10.*Fix: e\.g\. algo\.mini_batch_size=2/,
    );
  });

  test('ppo with a critic-free estimator is rejected', () => {
    const err = errorOf(() =>
      resolveConfig(parseConfig(`${base}algo:\n  estimator: rloo\n`, 'c.yaml'), 'c.yaml'),
    );
    assert.match(err.message, /algo\.name=ppo with algo\.estimator=rloo/);
  });

  test('greedy sampling with a group estimator is rejected', () => {
    const cfg = parseConfig(`${base}algo:\n  name: grpo\nrollout:\n  temperature: 0\n`, 'c.yaml');
    assert.match(
      errorOf(() => resolveConfig(cfg, 'c.yaml')).message,
      /rollout\.temperature=0 with algo\.estimator=grpo/,
    );
  });

  test('prompt + response longer than the model context fails at load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simplerl-cfg-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'config.json'), JSON.stringify({ max_position_embeddings: 4096 }));
    const cfg = parseConfig(
      `model:\n  path: ${dir}/m\ndata:\n  train: x\nrollout:\n  max_new_tokens: 8192\n`,
      'c.yaml',
    );
    const err = errorOf(() => resolveConfig(cfg, 'c.yaml'));
    assert.match(
      err.message,
      /rollout\.max_prompt_tokens=1024 \+ rollout\.max_new_tokens=8192 = 9216 exceeds max_position_embeddings=4096 .*Fix: lower rollout\.max_new_tokens to 3072/,
    );
    const ok = parseConfig(
      `model:\n  path: ${dir}/m\ndata:\n  train: x\nrollout:\n  max_new_tokens: 3072\n`,
      'c.yaml',
    );
    assert.equal(resolveConfig(ok, 'c.yaml').rollout.max_new_tokens, 3072);
    const long = parseConfig(
      `model:\n  path: ${dir}/m\ndata:\n  train: x\nrollout:\n  max_prompt_tokens: 4000\n`,
      'c.yaml',
    );
    assert.match(
      errorOf(() => resolveConfig(long, 'c.yaml')).message,
      /Fix: lower rollout\.max_prompt_tokens \(e\.g\. to 1024\)/,
    );
  });

  test('the resolved config round-trips through YAML', () => {
    const r = resolveConfig(parseConfig(`${base}algo:\n  name: grpo\n`, 'c.yaml'), 'c.yaml');
    const again = parseConfig(configToYaml(r, 'resolved'), 'config.yaml');
    assert.deepEqual(again, r);
  });
});

describe('config: help', () => {
  test('every leaf key has a help text', () => {
    const keys = configKeys();
    assert.ok(keys.length > 60, `only ${keys.length} keys`);
    const missing = keys.filter((k) => k.help.length < 10).map((k) => k.key);
    assert.deepEqual(missing, []);
    assert.ok(keys.some((k) => k.key === 'algo.kl.coef'));
    assert.ok(keys.some((k) => k.key === 'algo.kl.adaptive'));
  });

  test('help text of a section lists types and defaults', () => {
    const text = formatConfigHelp('rollout');
    assert.match(text, /rollout\.temperature \(number\) = 0\.6\n {4}Sampling temperature/);
    assert.doesNotMatch(text, /algo\./);
  });
});
